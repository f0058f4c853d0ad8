/**
 * The Docker stack, checked without a Docker daemon (there is none here): the Dockerfile's
 * layout and pins, docker-compose.yml's restart policies, pins and secrets, and the image's start
 * command run as a non-root user, once with a DATA_DIR it does not own (what a volume without the
 * Dockerfile's chown gives) and once with one it does (what the image's layout gives).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { noPostgres } from '../support/gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { freePort } from '../support/private-postgres.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A child process that loads the app through tsx: minutes on a busy shared machine, not seconds. */
const CHILD_TIMEOUT = 300_000;
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const ins = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)!.push(ins);
  }
  return stages;
}

/** image:tag pinned to an exact release (x.y or x.y.z, optionally with a variant suffix). */
const EXACT_TAG = /^[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.-]+)?$/;

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const runtime = stages.at(-1)!;
  const index = (pred: (i: Instruction) => boolean) => runtime.findIndex(pred);

  it('pins every base image to an exact version, on Node 24', () => {
    const images = stages.map((s) => s[0]!.args.split(/\s+/)[0]!);
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) {
      expect(image).toMatch(EXACT_TAG);
      expect(image).toMatch(/^node:24\.\d+\.\d+-/);
    }
  });

  it('runs the Node 24 that CI tests on (.ci/run)', () => {
    const ci = /^NODE24_VERSION=(\S+)$/m.exec(read('.ci/run'))?.[1];
    expect(ci).toMatch(/^24\.\d+\.\d+$/);
    for (const stage of stages) expect(stage[0]!.args).toMatch(new RegExp(`^node:${ci!.replaceAll('.', '\\.')}-`));
  });

  it('creates /data owned by node before VOLUME and USER, and sets DATA_DIR to it', () => {
    const chown = index((i) => i.op === 'RUN' && /mkdir -p \/data\b/.test(i.args) && /chown node:node \/data\b/.test(i.args));
    const volume = index((i) => i.op === 'VOLUME' && i.args.includes('/data'));
    const user = index((i) => i.op === 'USER');
    expect(chown).toBeGreaterThan(0);
    expect(volume).toBeGreaterThan(chown);
    expect(user).toBeGreaterThan(volume);
    expect(runtime[user]!.args).toBe('node');
    expect(runtime.some((i) => i.op === 'ENV' && /\bDATA_DIR=\/data\b/.test(i.args))).toBe(true);
  });

  it('checks health on /readyz with a script the image contains', () => {
    const health = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/CMD \["node", "deploy\/healthcheck\.mjs"\]/);
    expect(runtime.some((i) => i.op === 'COPY' && i.args === 'deploy/healthcheck.mjs ./deploy/healthcheck.mjs')).toBe(true);
    expect(read('deploy/healthcheck.mjs')).toContain('/readyz');
  });

  it('starts the gateway the way `npm start` does, with the same environment settings', () => {
    const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];
    const start = (JSON.parse(read('package.json')).scripts.start as string).split(' ');
    const node = start.indexOf('node');
    expect(cmd.join(' ')).toBe(start.slice(node).join(' '));
    // What `npm start` sets before `node` (MALLOC_ARENA_MAX=2), the image sets as ENV.
    const imageEnv = runtime.filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(/\s+/));
    for (const assignment of start.slice(0, node)) expect(imageEnv).toContain(assignment);
    expect(start.slice(0, node)).toContain('MALLOC_ARENA_MAX=2');
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml')) as { services: Record<string, Record<string, any>> };
  const envExample = read('.env.example');
  const exampleVars = new Map(
    envExample
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );

  it('restarts every service and pins every image to an exact version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart, name).toBe('unless-stopped');
      if (service.image) expect(service.image, name).toMatch(EXACT_TAG);
      else expect(service.build, name).toBe('.');
    }
  });

  it('runs the Unleash version the tests run against', () => {
    const tested = JSON.parse(read('package.json')).devDependencies['unleash-server'];
    expect(compose.services.unleash!.image).toBe(`unleashorg/unleash-server:${tested}`);
  });

  it('takes every secret from .env, each said once', () => {
    const text = read('docker-compose.yml');
    expect(text).not.toMatch(/change-me/);
    // Every ${VAR} the file uses is in .env.example, and every required one is required there.
    const used = [...text.matchAll(/\$\{([A-Z_]+)(:[?-][^}]*)?\}/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const v of used) expect(exampleVars.has(v), v).toBe(true);
    // The PostgreSQL password: one value, in .env, handed to each service by reference.
    const password = exampleVars.get('POSTGRES_PASSWORD')!;
    expect(password).toBeTruthy();
    expect(envExample.split(password).length - 1).toBe(1);
    expect(compose.services.gateway!.environment.DATABASE_URL).not.toMatch(/:[^/@]*@/);
    expect(compose.services.gateway!.environment.PGPASSWORD).toBe('${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}');
    // .env itself is never committed nor sent to the build.
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toContain('.env');
  });

  it("creates the gateway's database at PostgreSQL's first start", () => {
    const dbName = new URL(compose.services.gateway!.environment.DATABASE_URL).pathname.slice(1);
    expect(read('deploy/init-databases.sql')).toContain(`CREATE DATABASE ${dbName};`);
    expect(compose.services.unleash!.environment.DATABASE_NAME).toBe('unleash');
    expect(read('deploy/init-databases.sql')).toContain('CREATE DATABASE unleash;');
  });
});

/** A user other than root, as the image's `node` user is; nobody exists on Debian and Alpine alike. */
const NOBODY = (() => {
  const id = (flag: string) => spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
})();
const canSwitchUser = process.getuid?.() === 0 && NOBODY !== undefined;

describe.skipIf(!canSwitchUser || noPostgres)("the image's start command as a non-root user", () => {
  let base: string;
  let db: TestDatabase;

  beforeAll(async () => {
    // A folder anyone may enter, holding the DATA_DIRs (mkdtemp makes 0700 folders).
    base = mkdtempSync(join(tmpdir(), 'cc-docker-'));
    chmodSync(base, 0o755);
    db = await createTestDatabase();
  });
  afterAll(async () => {
    rmSync(base, { recursive: true, force: true });
    await db?.drop();
  });

  const env = (dataDir: string, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    HOME: base,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  });

  it(
    'stops with one line, not an EACCES stack, when DATA_DIR belongs to root',
    async () => {
      const dataDir = join(base, 'root-owned');
      mkdirSync(dataDir, { mode: 0o755 });
      const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
        cwd: ROOT,
        env: env(dataDir),
        uid: NOBODY!.uid,
        gid: NOBODY!.gid,
        encoding: 'utf8',
        timeout: CHILD_TIMEOUT,
      });
      expect(child.error?.message).toBeUndefined();
      expect(child.status).toBe(1);
      expect(child.stderr).toBe(
        `DATA_DIR ${dataDir} is not writable by this process (uid ${NOBODY!.uid}): EACCES. Give that user the folder (chown), or point DATA_DIR at one it owns.\n`,
      );
      expect(child.stdout).not.toMatch(/\n\s+at /);
    },
    CHILD_TIMEOUT,
  );

  it(
    'starts, writes its admin token and passes the health check with the layout the Dockerfile makes',
    async () => {
      // What `RUN mkdir -p /data && chown node:node /data` gives the image's user.
      const dataDir = join(base, 'data');
      mkdirSync(dataDir);
      chownSync(dataDir, NOBODY!.uid, NOBODY!.gid);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
        cwd: ROOT,
        env: env(dataDir),
        uid: NOBODY!.uid,
        gid: NOBODY!.gid,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      // A spawn that fails (e.g. the node binary not executable by this user) ends the wait too.
      const exited = new Promise<number | null>((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.on('error', (err) => {
          out += `spawn failed: ${err.message}\n`;
          resolve(null);
        });
      });
      try {
        const port = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', () => {
            const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
            if (m) resolve(m[1]!);
          });
          void exited.then((code) => reject(new Error(`exited ${code}:\n${out}`)));
        });
        expect(out).toContain(`admin token    generated now: read it from ${dataDir}/admin-token`);
        expect(out).not.toContain('cc_admin_');
        expect(statSync(join(dataDir, 'admin-token')).uid).toBe(NOBODY!.uid);
        expect(statSync(join(dataDir, 'spool')).uid).toBe(NOBODY!.uid);

        const health = spawnSync(process.execPath, ['deploy/healthcheck.mjs'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', PORT: port, HOST: '0.0.0.0', HEALTHCHECK_TIMEOUT_MS: '120000' },
          uid: NOBODY!.uid,
          gid: NOBODY!.gid,
          encoding: 'utf8',
          timeout: CHILD_TIMEOUT,
        });
        expect(health.status).toBe(0);
        // ok, or degraded (a slow database ping on a busy machine): both are healthy.
        expect(health.stdout).toMatch(/^200 \{"status":"(ok|degraded)"/);
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    },
    CHILD_TIMEOUT,
  );

  it('the health check fails when nothing answers', async () => {
    const port = await freePort();
    const health = spawnSync(process.execPath, ['deploy/healthcheck.mjs'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
      encoding: 'utf8',
      timeout: CHILD_TIMEOUT,
    });
    expect(health.status).toBe(1);
    expect(health.stdout).toBe(`http://127.0.0.1:${port}/readyz: ECONNREFUSED\n`);
  });
});
