/**
 * Child-process entry for tests/support/unleash-server.ts: runs one unleash-server against the
 * database in CC_UNLEASH_CONFIG. It lives in its own process because unleash-server keeps
 * process-wide state (schedulers, prom-client registries, knex pools) that must not leak into
 * the vitest worker, and because a test needs to stop it as a dead server looks to a client.
 */
import { start } from 'unleash-server';

const config = JSON.parse(process.env.CC_UNLEASH_CONFIG ?? '{}');

// The parent going away (crash, vitest killed) must not leave an orphan server on a port.
process.on('disconnect', () => process.exit(0));

let unleash;
try {
  unleash = await start({
    databaseUrl: config.databaseUrl,
    db: { ssl: false },
    server: { port: config.port, host: '127.0.0.1', gracefulShutdownEnable: false },
    authentication: {
      type: 'open-source',
      enableApiToken: true,
      initApiTokens: config.initApiTokens,
    },
    // Loopback only: no version check, no telemetry.
    versionCheck: { enable: false },
    telemetry: false,
    logLevel: config.logLevel ?? 'error',
  });
} catch (err) {
  process.send?.({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
}

process.send?.({ type: 'started', port: config.port });

async function shutdown() {
  try {
    await unleash?.stop();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => void shutdown());
process.on('message', (m) => {
  if (m && m.type === 'stop') void shutdown();
});
