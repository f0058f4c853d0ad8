#!/usr/bin/env node
/** The chain-canary command line (commander): serve, migrate, demo, and rollout commands. */
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from './config/config.js';

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

await program.parseAsync(process.argv);
