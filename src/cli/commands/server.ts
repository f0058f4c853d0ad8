/** The commands that run things on this machine: serve, migrate, demo, openapi, example-upstream. */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { ensureWritableDataDir } from '../../config/data-dir.js';
import { withContext, type CliIo } from '../context.js';

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
};

export function registerServerCommands(program: Command, io: CliIo): void {
  program
    .command('serve', { isDefault: true })
    .description('run the gateway (configuration from the environment: see the README)')
    .action(
      withContext(io, async (ctx) => {
        const config = loadConfig();
        ensureWritableDataDir(config.DATA_DIR);
        const { startServer, banner } = await import('../../server.js');
        const server = await startServer(config);
        if (!ctx.json) return io.out(banner(server, config));
        const { gateway, url } = server;
        ctx.print(
          {
            url,
            dashboard: `${url}/dashboard`,
            docs: `${url}/docs`,
            openapi: `${url}/openapi.json`,
            storage: gateway.database.kind,
            flags: config.UNLEASH_URL ? 'unleash' : 'embedded',
            // Never the token itself (stdout is a log stream): where it is.
            ...(config.ADMIN_TOKEN
              ? {}
              : { adminTokenFile: `${config.DATA_DIR}/admin-token`, adminTokenGenerated: gateway.adminTokenGenerated }),
          },
          () => '',
        );
      }),
    );

  program
    .command('migrate')
    .description('apply the database migrations and exit')
    .action(
      withContext(io, async (ctx) => {
        const config = loadConfig();
        const { openDatabase } = await import('../../store/db.js');
        if (!config.DATABASE_URL) ensureWritableDataDir(config.DATA_DIR);
        const database = await openDatabase({
          databaseUrl: config.DATABASE_URL,
          dataDir: config.DATA_DIR,
          connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
        });
        try {
          await database.migrate();
        } finally {
          await database.close();
        }
        ctx.print({ migrated: true, storage: database.kind }, () => `migrated (${database.kind})`);
      }),
    );

  program
    .command('demo')
    .description('run a complete simulated canary on embedded defaults, then leave the gateway running')
    .option('--fast', 'fewer simulated calls')
    .action(async (opts: { fast?: boolean }) => {
      const config = loadConfig();
      ensureWritableDataDir(config.DATA_DIR);
      const { runDemo } = await import('../../demo/demo.js');
      await runDemo(config, { fast: opts.fast ?? false });
    });

  program
    .command('openapi')
    .description('print the OpenAPI document (what GET /openapi.json serves), without starting the gateway')
    .action(async () => {
      const { buildOpenApiDocument } = await import('../../http/openapi/build-document.js');
      io.out(`${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`);
    });

  program
    .command('example-upstream')
    .description(
      'run a small example chain (LangServe /invoke shape: {"input": {"text"}} → {"output": {vendor, total, currency, date}}) to try the gateway with',
    )
    .option('-p, --port <port>', 'port to listen on', port, 9000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(
      withContext(io, async (ctx, opts: { port: number; host: string }) => {
        const { startExampleUpstream } = await import('../example-upstream.js');
        const upstream = await startExampleUpstream(opts);
        ctx.print({ url: upstream.url, versions: { v1: `${upstream.url}/invoke`, v2: `${upstream.url}/v2/invoke` } }, (v) =>
          [
            `example upstream listening on ${v.url}`,
            `  v1   POST ${v.versions.v1}      reads the total after "total"`,
            `  v2   POST ${v.versions.v2}   takes the first number as the total (a regression to catch)`,
            'Stop it with Ctrl-C.',
          ].join('\n'),
        );
      }),
    );
}
