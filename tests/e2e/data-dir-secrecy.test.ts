/**
 * DATA_DIR is the gateway's own (issue 19 item 11): with the embedded store, another local user
 * can neither read nor change PGlite's files, the spool or the admin token, even though PGlite
 * creates its files 0666; and a generated admin token never reaches stdout or stderr (the log
 * stream), only its file (0600), whose path is printed.
 * "Another user" is `nobody`, through runuser: the tests run as root, which no mode stops.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startTestGateway } from '../support/gateway.js';

const canRunAsNobody = process.getuid?.() === 0 && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;

/** Runs a shell command as `nobody`; its exit status. */
function asNobody(command: string): number | null {
  return spawnSync('runuser', ['-u', 'nobody', '--', 'sh', '-c', command], { stdio: 'ignore' }).status;
}

/** A DATA_DIR path under a folder anyone may enter, as a home or /srv folder would be. */
function openParent(): string {
  const parent = mkdtempSync(join(tmpdir(), 'cc-perm-'));
  chmodSync(parent, 0o755);
  return parent;
}

const parents: string[] = [];
afterAll(() => {
  for (const p of parents) rmSync(p, { recursive: true, force: true });
});

describe('DATA_DIR permissions', () => {
  it.skipIf(!canRunAsNobody)(
    'keeps another user out of the embedded store and the spool',
    async () => {
      const parent = openParent();
      parents.push(parent);
      const dataDir = join(parent, 'data');
      // What an earlier version (or a careless copy) left: an open folder with an open file.
      mkdirSync(join(dataDir, 'old'), { recursive: true, mode: 0o777 });
      chmodSync(dataDir, 0o777);
      chmodSync(join(dataDir, 'old'), 0o777);
      writeFileSync(join(dataDir, 'old', 'notes'), 'x', { mode: 0o666 });
      chmodSync(join(dataDir, 'old', 'notes'), 0o666);

      const gw = await startTestGateway({ storage: 'pglite', dataDir });
      try {
        expect(statSync(dataDir).mode & 0o777).toBe(0o700);
        expect(statSync(join(dataDir, 'old')).mode & 0o777).toBe(0o700);
        expect(statSync(join(dataDir, 'old', 'notes')).mode & 0o777).toBe(0o600);
        // PGlite's own files: nobody can list, read or write them.
        expect(asNobody(`ls ${dataDir}`)).not.toBe(0);
        expect(asNobody(`cat ${join(dataDir, 'pgdata', 'PG_VERSION')}`)).not.toBe(0);
        expect(asNobody(`echo x >> ${join(dataDir, 'pgdata', 'PG_VERSION')}`)).not.toBe(0);
        expect(asNobody(`ls ${join(dataDir, 'spool')}`)).not.toBe(0);
        // Every folder PGlite made is owner-only too (a second line of defence behind DATA_DIR).
        const dirs: string[] = [];
        const walk = (p: string) => {
          for (const n of readdirSync(p)) {
            const c = join(p, n);
            if (lstatSync(c).isDirectory()) {
              dirs.push(c);
              walk(c);
            }
          }
        };
        walk(dataDir);
        expect(dirs.length).toBeGreaterThan(5);
        expect(dirs.filter((d) => (statSync(d).mode & 0o077) !== 0)).toEqual([]);
      } finally {
        await gw.close();
      }
      // A first start of the embedded store runs initdb (seconds; tens of them on a loaded machine).
    },
    120_000,
  );

  it('never prints a generated admin token; the file holding it is 0600 and its path is printed', async () => {
    const parent = openParent();
    parents.push(parent);
    const dataDir = join(parent, 'data');
    // PGlite, and no ADMIN_TOKEN: the gateway generates one.
    const gw = await startGatewayProcess({ databaseUrl: '', dataDir, env: { ADMIN_TOKEN: '', LOG_LEVEL: 'info' }, startTimeoutMs: 90_000 });
    try {
      const file = join(dataDir, 'admin-token');
      const token = readFileSync(file, 'utf8').trim();
      expect(token).toMatch(/^cc_admin_/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const res = await fetch(`${gw.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(gw.output()).toContain(file);
      expect(gw.output()).not.toContain(token);
      expect(gw.output()).not.toContain(token.slice('cc_admin_'.length, 'cc_admin_'.length + 12));
    } finally {
      gw.signal('SIGTERM');
      await gw.exited;
    }
    if (canRunAsNobody) expect(asNobody(`cat ${join(dataDir, 'admin-token')}`)).not.toBe(0);
  }, 120_000);
});
