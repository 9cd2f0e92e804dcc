#!/usr/bin/env node
// `npm run build` step: the dashboard's static files are not TypeScript, so tsc does not emit
// them; copy them next to the compiled server so `bin/flowgate.js` serves the same page as src/.
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/serve/dashboard', { recursive: true, force: true });
cpSync('src/serve/dashboard', 'dist/serve/dashboard', { recursive: true });
