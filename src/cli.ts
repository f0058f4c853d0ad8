#!/usr/bin/env node
/** The chain-canary command line (commander): serve, migrate, demo, and rollout commands. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient, ApiError, resolveToken } from './cli/api-client.js';
import { formatComparison, formatRollout } from './cli/format.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { ensureWritableDataDir } from './config/data-dir.js';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

const program = new Command();
program.name('chain-canary').description('A canary gateway for LLM chains: A/B by override rate, with automatic rollback.');

program
  .command('serve', { isDefault: true })
  .description('run the gateway (configuration from the environment: see the README)')
  .action(async () => {
    const config = configOrExit();
    ensureWritableDataDir(config.DATA_DIR);
    const { startServer, banner } = await import('./server.js');
    const server = await startServer(config);
    process.stdout.write(banner(server, config));
  });

program
  .command('migrate')
  .description('apply the database migrations and exit')
  .action(async () => {
    const config = configOrExit();
    const { openDatabase } = await import('./store/db.js');
    const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
    await database.migrate();
    await database.close();
    process.stdout.write(`migrated (${database.kind})\n`);
  });

program
  .command('demo')
  .description('run a complete simulated canary on embedded defaults, then leave the gateway running')
  .option('--fast', 'fewer simulated calls')
  .action(async (opts: { fast?: boolean }) => {
    const config = configOrExit();
    const { runDemo } = await import('./demo/demo.js');
    await runDemo(config, { fast: opts.fast ?? false });
  });

const rollout = program.command('rollout').description('rollouts on a running gateway');
rollout
  .option('--url <url>', 'the gateway', process.env.CHAIN_CANARY_URL ?? 'http://127.0.0.1:8080')
  .option('--token <token>', 'admin token (default: CHAIN_CANARY_TOKEN, ADMIN_TOKEN, or .chain-canary/admin-token)');

function client(): ApiClient {
  const o = rollout.opts<{ url: string; token?: string }>();
  return new ApiClient({ url: o.url, token: resolveToken(o.token) });
}

rollout
  .command('status [id]')
  .description('list rollouts, or show one with its comparison')
  .action(async (id?: string) => {
    const api = client();
    if (!id) {
      const { items } = await api.call('GET', '/v1/rollouts');
      process.stdout.write(items.length ? `${items.map(formatRollout).join('\n')}\n` : 'no rollouts\n');
      return;
    }
    const r = await api.call('GET', `/v1/rollouts/${id}`);
    process.stdout.write(`${formatRollout(r)}\n\n`);
    process.stdout.write(`${formatComparison(await api.call('GET', `/v1/rollouts/${id}/comparison`))}\n`);
  });

rollout
  .command('create')
  .description('start a rollout from a JSON file (the body of POST /v1/rollouts)')
  .requiredOption('-f, --file <path>', 'JSON file with chain, control, candidate, stages, guardrails...')
  .action(async (opts: { file: string }) => {
    const body = JSON.parse(readFileSync(opts.file, 'utf8'));
    process.stdout.write(`${formatRollout(await client().call('POST', '/v1/rollouts', body))}\n`);
  });

for (const action of ['advance', 'pause', 'resume', 'promote'] as const) {
  rollout
    .command(`${action} <id>`)
    .description(`${action} a rollout`)
    .action(async (id: string) => {
      process.stdout.write(`${formatRollout(await client().call('POST', `/v1/rollouts/${id}/${action}`, {}))}\n`);
    });
}

rollout
  .command('rollback <id>')
  .description('send every call to the control, for good')
  .option('-r, --reason <reason>', 'why (kept in the audit log)')
  .action(async (id: string, opts: { reason?: string }) => {
    process.stdout.write(`${formatRollout(await client().call('POST', `/v1/rollouts/${id}/rollback`, opts.reason ? { reason: opts.reason } : {}))}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ApiError) {
    process.stderr.write(`error ${err.status} (${err.code}): ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
