/**
 * Listens, and closes gracefully: on SIGTERM/SIGINT stop accepting, let in-flight calls finish,
 * flush queued runs, then exit (close-with-grace).
 */
import closeWithGrace from 'close-with-grace';
import { pino, type Logger } from 'pino';
import { LOG_REDACT, LOG_SERIALIZERS } from './app.js';
import { compose, type Gateway } from './composition.js';
import type { Config } from './config/config.js';
import { releaseStartupMemory } from './runtime/startup-memory.js';

export function createLogger(level: Config['LOG_LEVEL']): Logger {
  return pino({ level, redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS });
}

export interface RunningServer {
  gateway: Gateway;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { log?: Logger; handleSignals?: boolean } = {}): Promise<RunningServer> {
  // Everything the gateway creates (spool, token, flag backup) is owner-only (src/runtime/data-dir.ts).
  process.umask(0o077);
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const gateway = await compose(config, { log });
  log.debug(releaseStartupMemory(), 'returned the memory start-up used');
  await gateway.app.listen({ port: config.PORT, host: config.HOST });
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  const url = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await gateway.app.close();
      await gateway.close();
    })());

  if (opts.handleSignals !== false) {
    closeWithGrace({ delay: 30_000, logger: log }, async ({ err, signal }) => {
      if (err) log.error({ err }, 'closing after an error');
      else log.info({ signal }, 'closing: finishing in-flight calls and flushing runs');
      await close();
    });
  }
  return { gateway, url, close };
}

/** What a person starting the gateway needs to see, once. */
export function banner(server: RunningServer, config: Config): string {
  const { gateway, url } = server;
  const lines = [
    '',
    `  chain-canary is listening on ${url}`,
    `  dashboard      ${url}/dashboard`,
    `  API docs       ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
    `  storage        ${gateway.database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL (DATABASE_URL)'}`,
    `  flags          ${config.UNLEASH_URL ? `Unleash at ${config.UNLEASH_URL}` : 'embedded flag store (no UNLEASH_URL)'}`,
  ];
  // Never the token itself: stdout is the log stream, kept and shipped where a secret must not go.
  if (gateway.adminTokenGenerated) {
    lines.push(`  admin token    generated now: read it from ${config.DATA_DIR}/admin-token (mode 0600)`);
  } else if (!config.ADMIN_TOKEN) {
    lines.push(`  admin token    in ${config.DATA_DIR}/admin-token`);
  } else {
    lines.push('  admin token    ADMIN_TOKEN from the environment');
  }
  return lines.join('\n') + '\n';
}
