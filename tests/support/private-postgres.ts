/**
 * A private PostgreSQL for fault-injection tests that stop, kill and restart the database: its
 * own cluster (initdb into a temporary folder as the `postgres` OS user), its own free loopback
 * port and socket folder, trust auth. The shared instance on 5432 is never touched.
 * fsync is off: the tests stop and kill the server process, never the machine, so the page cache
 * keeps what was written. synchronous_commit stays on: with it off, a killed server loses commits
 * it had acknowledged, which would be the database's data loss, not the gateway's.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  dir: string;
  start(): Promise<void>;
  /** pg_ctl stop -m fast: connections are closed, the server shuts down cleanly. */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster: a crash; the next start recovers from the WAL. */
  kill(): Promise<void>;
  running(): boolean;
  /** Stops it (if running) and deletes the cluster. */
  destroy(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder (e.g. /usr/lib/postgresql/15/bin). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** True when a private cluster can be made here (PostgreSQL installed, we may become `postgres`). */
export function privatePostgresAvailable(): boolean {
  if (!postgresBinDir() || process.getuid?.() !== 0) return false;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function asPostgres(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: 60_000 });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'cc-private-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=40',
    '-c shared_buffers=32MB',
  ].join(' ');
  const pgCtl = join(bin, 'pg_ctl');
  let up = false;

  const pg: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async start() {
      await asPostgres(pgCtl, ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
      up = true;
    },
    async stop() {
      await asPostgres(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      up = false;
    },
    async kill() {
      const pidFile = join(data, 'postmaster.pid');
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      // The backends notice their postmaster is gone and exit; wait for the port to be free.
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      up = false;
    },
    running: () => up,
    async destroy() {
      if (up) await pg.stop().catch(() => pg.kill().catch(() => {}));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  // A worker that dies (a timed-out hook, a crash) must not leave a server behind.
  process.once('exit', () => {
    if (!up) return;
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', pgCtl, '-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  });
  return pg;
}
