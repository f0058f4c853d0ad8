/** RecentRuns: runs written lately, bounded by count, bytes and age; a tenant's go on erasure. */
import { describe, expect, it } from 'vitest';
import type { Run } from '../../../src/domain/model/run.js';
import { RecentRuns } from '../../../src/runtime/recent-runs.js';
import { aRun } from '../../support/runs.js';

describe('RecentRuns', () => {
  const clock = { ms: 0 };
  const recent = (o: Partial<{ maxRuns: number; maxBytes: number; maxAgeMs: number }> = {}) =>
    new RecentRuns({ maxRuns: 3, maxBytes: 100_000, maxAgeMs: 60_000, now: () => clock.ms, ...o });
  /** A run and its stored JSON, padded with trailing blanks (still the same JSON) to `bytes` characters. */
  const stored = (over: Pick<Run, 'id'> & Partial<Run>, bytes = 0): [Run, string] => {
    const run = aRun(over);
    return [run, JSON.stringify(run).padEnd(bytes, ' ')];
  };

  it('keeps at most maxRuns, oldest out first', () => {
    const r = recent();
    for (const id of ['a', 'b', 'c', 'd']) r.add(...stored({ id }));
    expect([r.get('a'), r.get('b')?.id, r.get('d')?.id]).toEqual([undefined, 'b', 'd']);
    expect(r.size).toBe(3);
  });

  it('gives back the run as written, its date a Date again', () => {
    const run = aRun({ id: 'x', output: { a: 1 }, metadata: { k: 'v' } });
    const r = recent();
    r.add(run, JSON.stringify(run));
    expect(r.get('x')).toEqual(run);
    expect(r.get('x')?.createdAt).toBeInstanceOf(Date);
  });

  it('keeps at most maxBytes of JSON, and never a run larger than that', () => {
    const r = recent({ maxRuns: 100, maxBytes: 10_000 });
    r.add(...stored({ id: 'a' }, 6_000));
    r.add(...stored({ id: 'b' }, 6_000));
    expect([r.get('a'), r.get('b')?.id]).toEqual([undefined, 'b']);
    r.add(...stored({ id: 'huge' }, 10_001));
    expect(r.get('huge')).toBeUndefined();
    expect(r.get('b')?.id).toBe('b');
  });

  it('forgets runs older than maxAgeMs, and a tenant’s runs on erasure', () => {
    clock.ms = 0;
    const r = recent({ maxRuns: 100 });
    r.add(...stored({ id: 'old', tenantId: 'acme' }));
    clock.ms = 30_000;
    r.add(...stored({ id: 'acme-1', tenantId: 'acme' }));
    r.add(...stored({ id: 'globex-1', tenantId: 'globex' }));
    clock.ms = 61_000;
    expect(r.get('old')).toBeUndefined();
    r.forgetTenant('acme');
    expect([r.get('acme-1'), r.get('globex-1')?.id]).toEqual([undefined, 'globex-1']);
  });

  it('counts a run added again as new, and skips runs removed out of turn when evicting', () => {
    const r = recent();
    for (const id of ['a', 'b', 'c', 'a', 'd']) r.add(...stored({ id }));
    // `a` was added again after `c`: `b` is the oldest and goes first.
    expect(['a', 'b', 'c', 'd'].map((id) => r.get(id)?.id)).toEqual(['a', undefined, 'c', 'd']);
    r.add(...stored({ id: 'e', tenantId: 'globex' }));
    r.forgetTenant('globex');
    r.add(...stored({ id: 'f' }));
    r.add(...stored({ id: 'g' }));
    expect(['a', 'c', 'd', 'e', 'f', 'g'].map((id) => r.get(id)?.id)).toEqual([undefined, undefined, 'd', undefined, 'f', 'g']);
    expect(r.size).toBe(3);
  });

  it('keeps exactly the runs a plain list would over many adds, re-adds and erasures', () => {
    clock.ms = 0;
    const r = recent({ maxRuns: 50 });
    let model: { id: string; tenantId: string }[] = [];
    const add = (id: string, tenantId: string) => {
      r.add(...stored({ id, tenantId }));
      model = model.filter((m) => m.id !== id);
      model.push({ id, tenantId });
      if (model.length > 50) model.shift();
    };
    for (let i = 0; i < 20_000; i++) {
      add(`r${i}`, i % 7 === 0 ? 'acme' : 'globex');
      if (i % 3 === 0 && i > 0) add(`r${i - 1}`, 'globex');
      if (i % 1000 === 999) {
        r.forgetTenant('acme');
        model = model.filter((m) => m.tenantId !== 'acme');
      }
    }
    expect(r.size).toBe(model.length);
    const ids = Array.from({ length: 20_000 }, (_, i) => `r${i}`);
    expect(ids.filter((id) => r.get(id) !== undefined)).toEqual(ids.filter((id) => model.some((m) => m.id === id)));
  });
});
