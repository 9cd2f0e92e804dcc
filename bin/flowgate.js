#!/usr/bin/env node
// Runs the compiled CLI (npm run build). Development and tests run src/ through tsx instead.
import '../dist/cli/main.js';
