#!/usr/bin/env node
/** The chain-canary command line: see cli/program.ts and cli/commands/. */
import { runCli } from './cli/program.js';

// `chain-canary openapi | head`: a reader that stops early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const code = await runCli(process.argv.slice(2));
// A command that started a server (serve, demo, example-upstream) keeps the process alive.
if (code !== 0) process.exit(code);
