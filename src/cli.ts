#!/usr/bin/env node
/** The chain-canary command line: see cli/program.ts and cli/commands/. */
import { runCli } from './cli/program.js';

const code = await runCli(process.argv.slice(2));
// A command that started a server (serve, demo, example-upstream) keeps the process alive.
if (code !== 0) process.exit(code);
