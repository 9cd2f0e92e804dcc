#!/usr/bin/env node
/** Entry point: `node --import tsx src/cli/main.ts ...` in development, bin/flowgate.js when built. */
import { runCli } from './program.js';

// exitCode, not exit(): stdout may still be draining into a pipe.
process.exitCode = await runCli(process.argv);
