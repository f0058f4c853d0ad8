/**
 * The chain-canary command line (commander): one file per resource in commands/, global options
 * --url, --token and --json, and errors printed as one line (or, with --json, as the API's error
 * shape on stderr).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { ApiError } from './api-client.js';
import { registerChainCommands } from './commands/chains.js';
import { registerDatasetCommands, replayVersionArgs } from './commands/datasets.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerRolloutCommands } from './commands/rollouts.js';
import { registerServerCommands } from './commands/server.js';
import { registerTenantCommands } from './commands/tenants.js';
import { registerVersionCommands } from './commands/versions.js';
import { processIo, type CliIo } from './context.js';
import { VERSION } from '../version.js';

export { VERSION };

export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command()
    .name('chain-canary')
    .description('A canary gateway for LLM chains: A/B by override rate, with automatic rollback.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--url <url>', 'the gateway (commands that talk to one)', process.env.CHAIN_CANARY_URL ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'admin token (default: CHAIN_CANARY_TOKEN, ADMIN_TOKEN, or .chain-canary/admin-token)')
    .option('--json', "print JSON (the API's answer) instead of text")
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  registerServerCommands(program, io);
  registerTenantCommands(program, io);
  registerKeyCommands(program, io);
  registerChainCommands(program, io);
  registerVersionCommands(program, io);
  registerRolloutCommands(program, io);
  registerPlanCommands(program, io);
  registerDatasetCommands(program, io);
  return program;
}

/**
 * Runs the command line; resolves with the exit code. Commands that start a server resolve with 0
 * while it keeps running.
 */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(replayVersionArgs(args), { from: 'user' });
    return 0;
  } catch (err) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (err instanceof CommanderError) return err.exitCode;
    const json = program.opts<{ json?: boolean }>().json === true;
    if (err instanceof ApiError) {
      io.err(
        json
          ? `${JSON.stringify({ status: err.status, error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } })}\n`
          : `error ${err.status} (${err.code}): ${err.message}\n`,
      );
      return 1;
    }
    const message = (err as Error).message ?? String(err);
    io.err(json ? `${JSON.stringify({ error: { code: errorCode(err), message } })}\n` : `${message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
}

function errorCode(err: unknown): string {
  const name = (err as Error)?.name ?? 'Error';
  return (
    {
      GatewayUnreachableError: 'gateway_unreachable',
      DatabaseStartupError: 'database_unavailable',
      DataDirError: 'data_dir_not_writable',
      CliError: 'usage',
      MissingTokenError: 'no_token',
    }[name] ?? (err instanceof ConfigError ? 'invalid_configuration' : 'error')
  );
}
