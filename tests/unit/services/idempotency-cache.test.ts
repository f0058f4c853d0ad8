/** IdempotencyCache: answers for retries, bounded by count, characters of output and age; calls in flight and young answers never dropped. */
import { describe, expect, it } from 'vitest';
import { IdempotencyCache } from '../../../src/domain/services/idempotency-cache.js';
import type { InvokeResult } from '../../../src/domain/services/invoke-service.js';

const answer = (runId: string, output: unknown = { total: 1 }): InvokeResult => ({
  runId,
  chain: 'c',
  version: 'v1',
  variant: 'default',
  output,
  latencyMs: 1,
  upstreamMs: 1,
});
const clock = { ms: 0 };
const cache = (o: { maxEntries?: number; maxChars?: number; minAgeMs?: number } = {}) => {
  clock.ms = 0;
  return new IdempotencyCache({ maxEntries: 1_000, maxChars: 1_000_000, ttlMs: 60_000, minAgeMs: 0, ...o }, () => clock.ms);
};
/** Lets the cache see the answers that have settled. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));
const runIdOf = async (p: Promise<InvokeResult> | undefined) => (p ? (await p).runId : undefined);
const held = (c: IdempotencyCache, keys: string[]) => Promise.all(keys.map((k) => runIdOf(c.get(k))));

describe('IdempotencyCache', () => {
  it('keeps at most maxEntries answers, oldest out first', async () => {
    const c = cache({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) c.start(k, Promise.resolve(answer(k)));
    await settled();
    expect(await held(c, ['a', 'b', 'c'])).toEqual([undefined, 'b', 'c']);
    expect(c.size).toBe(2);
  });

  it('keeps at most maxChars of outputs as JSON, and never drops a call in flight', async () => {
    const c = cache({ maxChars: 2 * (256 + 1_002) });
    let finish!: (r: InvokeResult) => void;
    c.start('in-flight', new Promise<InvokeResult>((resolve) => (finish = resolve)));
    for (const k of ['a', 'b', 'c']) c.start(k, Promise.resolve(answer(k, 'x'.repeat(1_000))));
    await settled();
    expect(await held(c, ['a', 'b', 'c'])).toEqual([undefined, 'b', 'c']);
    expect(c.get('in-flight')).toBeDefined();
    // Once it has finished it counts like the others, and the oldest answer goes.
    finish(answer('in-flight', 'y'.repeat(1_000)));
    await settled();
    expect(await held(c, ['in-flight', 'b', 'c'])).toEqual([undefined, 'b', 'c']);
  });

  it('drops no answer younger than minAgeMs, whatever the bounds', async () => {
    const c = cache({ maxEntries: 1, minAgeMs: 10_000 });
    c.start('a', Promise.resolve(answer('a')));
    clock.ms = 5_000;
    c.start('b', Promise.resolve(answer('b')));
    await settled();
    expect(await held(c, ['a', 'b'])).toEqual(['a', 'b']);
    clock.ms = 10_001;
    c.start('c', Promise.resolve(answer('c')));
    await settled();
    // `a` is old enough to go; `b` is not yet, so both it and `c` stay over the bound.
    expect(await held(c, ['a', 'b', 'c'])).toEqual([undefined, 'b', 'c']);
  });

  it('holds nothing for a call that failed, forgets answers past their TTL, and forgets a prefix', async () => {
    const c = cache();
    const failed = Promise.reject(new Error('upstream down'));
    c.start('t1\u0000x', failed);
    await failed.catch(() => {});
    await settled();
    expect(c.get('t1\u0000x')).toBeUndefined();
    c.start('t1\u0000y', Promise.resolve(answer('y')));
    clock.ms = 1;
    c.start('t2\u0000y', Promise.resolve(answer('y2')));
    await settled();
    clock.ms = 60_000;
    expect(c.get('t1\u0000y')).toBeUndefined();
    expect(await runIdOf(c.get('t2\u0000y'))).toBe('y2');
    c.forgetPrefix('t2\u0000');
    expect(c.get('t2\u0000y')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('replaces an answer started again under the same key', async () => {
    const c = cache({ maxEntries: 1 });
    c.start('k', Promise.resolve(answer('first')));
    await settled();
    c.start('k', Promise.resolve(answer('second')));
    await settled();
    expect(await runIdOf(c.get('k'))).toBe('second');
    expect(c.size).toBe(1);
  });
});
