/**
 * A real Unleash server for e2e tests, in a child process (tests/support/unleash-server-child.mjs)
 * against a database of its own, with known API tokens created at first start (initApiTokens).
 * Give it an empty database (createTestDatabase({ empty: true })): Unleash runs its own migrations.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface UnleashServer {
  /** The API root the SDK and the admin client take: http://127.0.0.1:PORT/api */
  url: string;
  port: number;
  adminToken: string;
  /** A backend (client) token for the `default` project and the `development` environment. */
  clientToken: string;
  /** Stops the server and waits for the process to exit (SIGKILL if it does not within 5 s). */
  stop(): Promise<void>;
}

// Unleash 7 reads `project:environment.secret`; admin tokens must be `*:*` (api-token.ts validateApiToken).
export const TEST_ADMIN_TOKEN = '*:*.unleash-admin-test';
export const TEST_CLIENT_TOKEN = 'default:development.unleash-client-test';

const childEntry = fileURLToPath(new URL('./unleash-server-child.mjs', import.meta.url));

/** A port free right now on the loopback: unleash does not report back the port of `port: 0`. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`unleash-server exited with code ${child.exitCode} before it was healthy`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`unleash-server did not answer /health within ${timeoutMs} ms (${last})`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startUnleashServer(opts: {
  databaseUrl: string;
  port?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  timeoutMs?: number;
}): Promise<UnleashServer> {
  const port = opts.port ?? (await freePort());
  const config = {
    databaseUrl: opts.databaseUrl,
    port,
    logLevel: opts.logLevel ?? 'error',
    initApiTokens: [
      { environment: '*', projects: ['*'], secret: TEST_ADMIN_TOKEN, type: 'admin', tokenName: 'test-admin' },
      { environment: 'development', projects: ['default'], secret: TEST_CLIENT_TOKEN, type: 'backend', tokenName: 'test-client' },
    ],
  };
  const stderr: string[] = [];
  const child = fork(childEntry, [], {
    // vitest sets NODE_ENV=test, which changes how unleash-server resolves its edition
    // (create-config.ts resolveIsOss); run it as it runs in production.
    env: { ...process.env, CC_UNLEASH_CONFIG: JSON.stringify(config), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 50) stderr.shift();
  });
  // A vitest worker that exits without calling stop() must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(base, child, opts.timeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw new Error(`${(err as Error).message}\n${stderr.join('').slice(-4000)}`, { cause: err });
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `${base}/api`,
    port,
    adminToken: TEST_ADMIN_TOKEN,
    clientToken: TEST_CLIENT_TOKEN,
    stop() {
      stopping ??= (async () => {
        const done = exited(child);
        if (child.connected) child.send({ type: 'stop' });
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
        process.removeListener('exit', killOnExit);
      })();
      return stopping;
    },
  };
}
