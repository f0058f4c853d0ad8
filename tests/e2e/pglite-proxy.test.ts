/**
 * The embedded database in its worker thread (src/store/pglite-proxy.ts): what drizzle relies on
 * (queries, transactions that commit or roll back, SQLSTATE codes on errors) crosses the thread
 * intact, and the gateway's event loop stays free while PGlite works.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteProxy } from '../../src/store/pglite-proxy.js';
import { isUniqueViolation } from '../../src/store/db-errors.js';

describe('PGlite in a worker thread', () => {
  let dir: string;
  let db: PgliteProxy;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-pglite-proxy-'));
    db = await PgliteProxy.open({ dir: join(dir, 'pgdata'), postgresqlconf: ['shared_buffers=16MB'] });
    await db.query('create table t (id int primary key, note text, at timestamptz default now())');
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers queries in both row modes, with the text of the types drizzle parses itself', async () => {
    await db.query('insert into t (id, note) values ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
    const objects = await db.query('select id, note from t order by id');
    expect(objects.rows).toEqual([
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ]);
    const identity = (v: string) => v;
    const arrays = await db.query('select id, at from t where id = 1', [], { rowMode: 'array', parsers: { 1184: identity } });
    const [row] = arrays.rows as unknown as [number, string][];
    expect(row?.[0]).toBe(1);
    expect(typeof row?.[1]).toBe('string');
  });

  it('refuses parsers that would have to run on the other thread', async () => {
    await expect(db.query('select 1', [], { parsers: { 23: (v: string) => Number(v) } })).rejects.toThrow(/identity parsers/);
  });

  it('commits a transaction, and rolls one back when its callback throws', async () => {
    await db.transaction(async (tx) => {
      await tx.query('insert into t (id, note) values (10, $1)', ['kept']);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into t (id, note) values (11, $1)', ['dropped']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await db.query('select id from t where id >= 10 order by id');
    expect(rows).toEqual([{ id: 10 }]);
  });

  it('keeps statements outside a transaction waiting until it ends, as one connection would', async () => {
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('insert into t (id, note) values (20, $1)', ['in tx']);
      outside = db.query('select count(*)::int as n from t where id = 20').then((r) => {
        order.push('outside');
        return r.rows;
      });
      await new Promise((r) => setTimeout(r, 50));
      order.push('commit');
    });
    expect(await outside).toEqual([{ n: 1 }]);
    expect(order).toEqual(['commit', 'outside']);
  });

  it('carries the SQLSTATE of an error, so the store maps it to the domain', async () => {
    const err = await db.query('insert into t (id, note) values (1, $1)', ['again']).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect((err as { constraint?: string }).constraint).toBe('t_pkey');
  });

  it('leaves the event loop free while PGlite works', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [1000 + i, 'x'.repeat(200)]);
    const values = rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(',');
    // A 1 ms ticker: on the event loop, PGlite would let it tick only between statements (one gap
    // as long as all the work); from its thread, the loop keeps ticking throughout.
    const ticks = [performance.now()];
    const ticker = setInterval(() => ticks.push(performance.now()), 1);
    for (let k = 0; k < 3; k++) {
      await db.query('delete from t where id >= 1000');
      await db.query(`insert into t (id, note) values ${values}`, rows.flat());
    }
    clearInterval(ticker);
    ticks.push(performance.now());
    const total = ticks.at(-1)! - ticks[0]!;
    const longestGap = Math.max(...ticks.slice(1).map((t, i) => t - ticks[i]!));
    expect(ticks.length).toBeGreaterThan(10);
    expect(longestGap).toBeLessThan(total / 2);
  });
});
