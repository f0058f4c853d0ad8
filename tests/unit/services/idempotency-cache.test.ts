/** IdempotencyCache: answers for retries, bounded by count, characters of output and age; calls in flight never dropped. */
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
const cache = (o: { maxEntries?: number; maxChars?: number } = {}) =>
  new IdempotencyCache({ maxEntries: 1_000, maxChars: 1_000_000, ttlMs: 60_000, ...o });
/** Lets the cache see the answers that have settled. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));
const runIdOf = async (p: Promise<InvokeResult> | undefined) => (p ? (await p).runId : undefined);

describe('IdempotencyCache', () => {
  it('keeps at most maxEntries answers, oldest out first', async () => {
    const c = cache({ maxEntries: 2 });
    for (const k of ['a', 'b', 'c']) c.start(k, 0, Promise.resolve(answer(k)));
    await settled();
    expect(await Promise.all(['a', 'b', 'c'].map((k) => runIdOf(c.get(k, 1))))).toEqual([undefined, 'b', 'c']);
    expect(c.size).toBe(2);
  });

  it('keeps at most maxChars of outputs as JSON, and never drops a call in flight', async () => {
    const c = cache({ maxChars: 2 * (256 + 1_002) });
    let finish!: (r: InvokeResult) => void;
    c.start('in-flight', 0, new Promise<InvokeResult>((resolve) => (finish = resolve)));
    for (const k of ['a', 'b', 'c']) c.start(k, 0, Promise.resolve(answer(k, 'x'.repeat(1_000))));
    await settled();
    expect(await Promise.all(['a', 'b', 'c'].map((k) => runIdOf(c.get(k, 1))))).toEqual([undefined, 'b', 'c']);
    expect(c.get('in-flight', 1)).toBeDefined();
    // Once it has finished it counts like the others, and the oldest answer goes.
    finish(answer('in-flight', 'y'.repeat(1_000)));
    await settled();
    expect(await Promise.all(['in-flight', 'b', 'c'].map((k) => runIdOf(c.get(k, 1))))).toEqual([undefined, 'b', 'c']);
  });

  it('holds nothing for a call that failed, forgets answers past their TTL, and forgets a prefix', async () => {
    const c = cache();
    const failed = Promise.reject(new Error('upstream down'));
    c.start('t1\u0000x', 0, failed);
    await failed.catch(() => {});
    await settled();
    expect(c.get('t1\u0000x', 1)).toBeUndefined();
    c.start('t1\u0000y', 0, Promise.resolve(answer('y')));
    c.start('t2\u0000y', 0, Promise.resolve(answer('y2')));
    await settled();
    expect(c.get('t1\u0000y', 60_000)).toBeUndefined();
    expect(await runIdOf(c.get('t2\u0000y', 59_999))).toBe('y2');
    c.forgetPrefix('t2\u0000');
    expect(c.get('t2\u0000y', 1)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('replaces an answer started again under the same key', async () => {
    const c = cache({ maxEntries: 1 });
    c.start('k', 0, Promise.resolve(answer('first')));
    await settled();
    c.start('k', 10, Promise.resolve(answer('second')));
    await settled();
    expect(await runIdOf(c.get('k', 11))).toBe('second');
    expect(c.size).toBe(1);
  });
});
