/** RecentRuns: runs written lately, bounded by count, bytes and age; a tenant's go on erasure. */
import { describe, expect, it } from 'vitest';
import { RecentRuns } from '../../../src/runtime/recent-runs.js';
import { aRun } from '../../support/runs.js';

describe('RecentRuns', () => {
  const clock = { ms: 0 };
  const recent = (o: Partial<{ maxRuns: number; maxBytes: number; maxAgeMs: number }> = {}) =>
    new RecentRuns({ maxRuns: 3, maxBytes: 1000, maxAgeMs: 60_000, now: () => clock.ms, ...o });

  it('keeps at most maxRuns, oldest out first', () => {
    const r = recent();
    for (const id of ['a', 'b', 'c', 'd']) r.add(aRun({ id }), 10);
    expect([r.get('a'), r.get('b')?.id, r.get('d')?.id]).toEqual([undefined, 'b', 'd']);
    expect(r.size).toBe(3);
  });

  it('keeps at most maxBytes, and never a run larger than that', () => {
    const r = recent({ maxRuns: 100 });
    r.add(aRun({ id: 'a' }), 600);
    r.add(aRun({ id: 'b' }), 600);
    expect([r.get('a'), r.get('b')?.id]).toEqual([undefined, 'b']);
    r.add(aRun({ id: 'huge' }), 1001);
    expect(r.get('huge')).toBeUndefined();
    expect(r.get('b')?.id).toBe('b');
  });

  it('forgets runs older than maxAgeMs, and a tenant’s runs on erasure', () => {
    clock.ms = 0;
    const r = recent({ maxRuns: 100 });
    r.add(aRun({ id: 'old', tenantId: 'acme' }), 10);
    clock.ms = 30_000;
    r.add(aRun({ id: 'acme-1', tenantId: 'acme' }), 10);
    r.add(aRun({ id: 'globex-1', tenantId: 'globex' }), 10);
    clock.ms = 61_000;
    expect(r.get('old')).toBeUndefined();
    r.forgetTenant('acme');
    expect([r.get('acme-1'), r.get('globex-1')?.id]).toEqual([undefined, 'globex-1']);
  });
});
