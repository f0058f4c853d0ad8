/**
 * The replay runner with in-memory ports: every case × repeat scored once, at most `concurrency`
 * in flight, a runner that dies is taken over after its lease with no case scored twice and none
 * skipped, a graceful stop hands the replay over at once, and cancel stops the calls.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AdapterDefinition } from '../../../src/adapters/adapter-definition.js';
import { UpstreamError } from '../../../src/domain/model/errors.js';
import type { ChainAdapter } from '../../../src/domain/ports/chain-adapter.js';
import type { ReplayRepository } from '../../../src/domain/ports/replay-repository.js';
import { DatasetService } from '../../../src/domain/services/dataset-service.js';
import { ReplayService } from '../../../src/domain/services/replay-service.js';
import { ReplayRunner } from '../../../src/runtime/replay-runner.js';
import { MemoryDatasets, MemoryReplays } from './in-memory.js';

const log = pino({ level: 'silent' });
const DEF = { type: 'http', url: 'http://127.0.0.1:1/invoke', timeoutMs: 1000 } as AdapterDefinition;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await fn()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An adapter that answers {n, ok} for input {n}, fails for `failing` ns, and counts calls and concurrency. */
function countingAdapter(opts: { failing?: number[]; hangAfter?: number } = {}) {
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const adapter: ChainAdapter = {
    async invoke(input: unknown, signal?: AbortSignal) {
      const n = (input as { n: number }).n;
      calls.push(n);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (opts.hangAfter !== undefined && calls.length > opts.hangAfter) {
          await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        }
        await sleep(1 + (n % 3));
        if (opts.failing?.includes(n)) throw new UpstreamError('failed', 'boom');
        return { output: { n, ok: n % 4 !== 0 }, upstreamMs: 1 };
      } finally {
        inFlight--;
      }
    },
  };
  return { adapter, calls, max: () => maxInFlight };
}

async function setup(cases = 20) {
  const datasets = new MemoryDatasets();
  const replays = new MemoryReplays(datasets);
  const clock = { t: Date.parse('2026-12-01T00:00:00Z') };
  const now = () => new Date(clock.t);
  const dsService = new DatasetService({ datasets, requireChain: () => ({}), requireEnvironment: () => {}, requireTenants: () => {}, now });
  const d = await dsService.create({ name: 'd', chain: 'c' });
  await dsService.append(
    d.id,
    Array.from({ length: cases }, (_, n) => ({ input: { n }, expected: { n, ok: true } })),
  );
  return { datasets, replays, clock, now, datasetId: d.id };
}

function runner(
  s: Awaited<ReturnType<typeof setup>>,
  adapter: ChainAdapter,
  instanceId: string,
  repo: ReplayRepository = s.replays,
  extra: Partial<ConstructorParameters<typeof ReplayRunner>[0]> = {},
) {
  return new ReplayRunner({
    replays: repo,
    datasets: s.datasets,
    versionDefinition: () => DEF,
    adapters: { get: () => adapter },
    redactOutput: (_c, o) => o,
    log,
    now: s.now,
    instanceId,
    leaseMs: 1000,
    scanIntervalMs: 20,
    ...extra,
  });
}

function service(s: Awaited<ReturnType<typeof setup>>, r?: ReplayRunner) {
  return new ReplayService({
    replays: s.replays,
    datasets: s.datasets,
    hasVersion: () => true,
    now: s.now,
    onQueued: (replay) => r?.kick(replay.id),
    onCancelled: (replay) => r?.cancel(replay.id),
  });
}

describe('ReplayRunner', () => {
  it('scores every case × repeat once with at most `concurrency` calls in flight', async () => {
    const s = await setup(20);
    const a = countingAdapter({ failing: [5] });
    const r = runner(s, a.adapter, 'one');
    const svc = service(s, r);
    const replay = await svc.start(s.datasetId, { version: 'v1', concurrency: 3, repeats: 2 });
    await until('done', async () => (await svc.get(replay.id)).status === 'done');
    expect(a.calls).toHaveLength(40);
    expect(a.max()).toBeLessThanOrEqual(3);
    expect(a.max()).toBeGreaterThan(1);
    const view = await svc.status(replay.id);
    expect(view.done).toBe(40);
    // n % 4 === 0 answers ok: false (5 of 20 cases, twice); n = 5 fails (twice, not scored).
    expect(view.result).toMatchObject({ cases: 40, errors: 2, overridden: 10, repeatDisagreement: { cases: 19, disagreeing: 0, rate: 0 } });
    expect(view.result!.overrideRate).toBeCloseTo(10 / 38, 12);
    expect(view.result!.fieldOverrideRates).toEqual({ n: 0, ok: 10 / 38 });
    expect(s.replays.duplicates).toBe(0);
    await r.stop();
  });

  it('a runner that dies is taken over once its lease expires: nothing scored twice, nothing skipped', async () => {
    const s = await setup(30);
    let dead = false;
    // The first runner's process "dies": from then on none of its writes reach the database.
    const deadRepo = new Proxy(s.replays, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function'
          ? (...args: unknown[]) => (dead ? Promise.reject(new Error('process is dead')) : v.apply(target, args))
          : v;
      },
    });
    const first = countingAdapter({ hangAfter: 12 });
    const r1 = runner(s, first.adapter, 'first', deadRepo);
    const svc = service(s, r1);
    const replay = await svc.start(s.datasetId, { version: 'v1', concurrency: 2, repeats: 1 });
    await until('first calls hang', () => first.calls.length >= 14);
    dead = true;
    const scoredByFirst = [...s.replays.results.values()].map(
      (r) => s.datasets.cases.get(s.datasetId)!.find((c) => c.id === r.caseId)!.input as { n: number },
    );
    expect(scoredByFirst).toHaveLength(12);

    const second = countingAdapter();
    const r2 = runner(s, second.adapter, 'second');
    r2.start();
    // The lease still holds: the second runner waits.
    await sleep(100);
    expect(second.calls).toHaveLength(0);
    s.clock.t += 2000; // past the lease
    await until('done', async () => (await svc.get(replay.id)).status === 'done');
    expect(second.calls.sort((x, y) => x - y)).toEqual(
      Array.from({ length: 30 }, (_, n) => n).filter((n) => !scoredByFirst.some((i) => i.n === n)),
    );
    expect(await s.replays.progress(replay.id)).toBe(30);
    expect(s.replays.duplicates).toBe(0);
    await r1.stop(0);
    await r2.stop();
  });

  it('a graceful stop hands the replay back at once; the next runner finishes it', async () => {
    const s = await setup(30);
    const first = countingAdapter();
    const r1 = runner(s, first.adapter, 'first');
    const svc = service(s, r1);
    const replay = await svc.start(s.datasetId, { version: 'v1', concurrency: 2, repeats: 1 });
    await until('some done', async () => (await s.replays.progress(replay.id)) >= 5);
    await r1.stop();
    const row = await s.replays.get(replay.id);
    expect(row!.status).toBe('running');
    const doneAtStop = await s.replays.progress(replay.id);
    expect(doneAtStop).toBeLessThan(30);
    const second = countingAdapter();
    const r2 = runner(s, second.adapter, 'second');
    r2.start(); // no clock change: the lease was released
    await until('done', async () => (await svc.get(replay.id)).status === 'done');
    expect(second.calls).toHaveLength(30 - doneAtStop);
    expect(first.calls.length + second.calls.length).toBe(30);
    expect(s.replays.duplicates).toBe(0);
    await r2.stop();
  });

  it('cancel stops the calls here and keeps the results; it is final', async () => {
    const s = await setup(30);
    const a = countingAdapter({ hangAfter: 6 });
    const r = runner(s, a.adapter, 'one');
    const svc = service(s, r);
    const replay = await svc.start(s.datasetId, { version: 'v1', concurrency: 2, repeats: 1 });
    await until('hanging', () => a.calls.length >= 8);
    const cancelled = await svc.cancel(replay.id);
    expect(cancelled.status).toBe('cancelled');
    await until('runner idle', () => r.running().length === 0);
    expect(a.calls).toHaveLength(8);
    const view = await svc.status(replay.id);
    expect(view.done).toBe(6);
    expect(view.result?.cases).toBe(6);
    await expect(svc.cancel(replay.id)).resolves.toMatchObject({ status: 'cancelled' });
    r.start();
    await sleep(60);
    expect(a.calls).toHaveLength(8);
    await r.stop();
  });

  it('fails a replay whose version is not registered', async () => {
    const s = await setup(3);
    const a = countingAdapter();
    const r = runner(s, a.adapter, 'one', s.replays, { versionDefinition: () => undefined });
    const svc = service(s, r);
    const replay = await svc.start(s.datasetId, { version: 'gone', concurrency: 1, repeats: 1 });
    await until('failed', async () => (await svc.get(replay.id)).status === 'failed');
    expect((await svc.get(replay.id)).error).toMatch(/not registered/);
    expect(a.calls).toHaveLength(0);
    await r.stop();
  });
});
