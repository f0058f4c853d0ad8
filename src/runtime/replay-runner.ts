/**
 * Runs replays: one chain version over every case of a dataset (× repeats), through the same
 * adapter object live traffic uses (its connection pool, its timeout, its circuit breaker), at
 * most `concurrency` cases in flight per replay. Replay results never touch the run writer, the
 * rollups or the metrics.
 *
 * Survives restarts, case by case:
 * - each result is committed as its case finishes, under a unique (replay, case, repeat) key;
 * - the work left is read from the database as "cases without a result", never kept in memory
 *   across restarts, so a replay that starts again runs exactly the cases that have no result;
 * - one process runs a replay at a time, by a lease on the replay row (renewed while it runs),
 *   which a dead process stops renewing; a process that shuts down gracefully gives it back. With
 *   the embedded database (PGlite: one process per DATA_DIR) every open replay is this process's
 *   to resume at start, lease or not.
 * A call cut off by a crash has no result, so it runs again; no result is ever stored twice.
 * A case erased with its tenant's runs while in flight is not recorded (the store refuses it
 * quietly), and pending work no longer lists it: the replay finishes without it.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AdapterDefinition } from '../adapters/adapter-definition.js';
import { UpstreamError } from '../domain/model/errors.js';
import type { Replay } from '../domain/model/replay.js';
import { scoreCase } from '../domain/overrides/score-case.js';
import type { ChainAdapter, ChainResult } from '../domain/ports/chain-adapter.js';
import type { DatasetRepository } from '../domain/ports/dataset-repository.js';
import type { ReplayRepository, ReplayWorkItem, ResultCursor } from '../domain/ports/replay-repository.js';
import { summarizeReplay } from '../domain/replay/summarize.js';
import { Periodic } from './jobs/periodic.js';

export interface ReplayRunnerDeps {
  replays: ReplayRepository;
  datasets: DatasetRepository;
  /** The registered definition of a version (undefined: not registered). */
  versionDefinition: (chain: string, version: string) => AdapterDefinition | undefined;
  /** The adapter live traffic uses for that version. */
  adapters: { get(chain: string, version: string, def: AdapterDefinition): ChainAdapter };
  /** The chain's redaction of an output before it is stored (scoring sees the output as it came). */
  redactOutput: (chain: string, output: unknown) => unknown;
  log: Logger;
  now: () => Date;
  /** This process, as the lease holder. */
  instanceId: string;
  /** Lease length; renewed every third of it. */
  leaseMs?: number;
  /** How often open replays without a live runner are looked for. */
  scanIntervalMs?: number;
  /** Replays run at once by this process; more wait, queued. */
  maxActive?: number;
  /** At start, take over every open replay regardless of its lease (embedded database: no other process can hold one). */
  takeOverAtStart?: boolean;
  /** Told when a replay of this process reaches a final status. */
  onFinished?: (replay: Replay) => void;
}

const PAGE = 200;
const FAR_FUTURE = new Date('9999-12-31T00:00:00Z');

interface ActiveReplay {
  abort: AbortController;
  done: Promise<void>;
}

export class ReplayRunner {
  private readonly active = new Map<string, ActiveReplay>();
  private readonly periodic: Periodic;
  private readonly leaseMs: number;
  private stopping = false;

  constructor(private readonly deps: ReplayRunnerDeps) {
    this.leaseMs = deps.leaseMs ?? 15_000;
    this.periodic = new Periodic(() => this.scan(false), {
      intervalMs: deps.scanIntervalMs ?? 5_000,
      onError: (err) => deps.log.warn({ err }, 'replay scan failed; will look again'),
    });
  }

  /** Resumes the open replays (at once) and looks for orphaned ones periodically. */
  start(): void {
    this.stopping = false;
    void this.scan(this.deps.takeOverAtStart ?? false).catch((err) =>
      this.deps.log.warn({ err }, 'replay scan at start failed; will look again'),
    );
    this.periodic.start();
  }

  /** A replay was just queued: run it here now if there is room (the scan finds it otherwise). */
  kick(id: string): void {
    if (this.stopping || this.active.has(id) || this.active.size >= (this.deps.maxActive ?? 4)) return;
    this.launch(id, false);
  }

  /** A replay was cancelled: stop its calls here at once (other processes notice at their next renewal). */
  cancel(id: string): void {
    this.active.get(id)?.abort.abort(new Error('cancelled'));
  }

  /** Graceful stop: no new cases; cases in flight get `graceMs` to finish; leases are given back. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await this.periodic.stop();
    const all = [...this.active.values()];
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([Promise.all(all.map((a) => a.done)), grace]);
    clearTimeout(timer);
    for (const a of all) a.abort.abort(new Error('shutting down'));
    await Promise.all(all.map((a) => a.done));
  }

  /** Ids of replays running in this process (for tests and readiness). */
  running(): string[] {
    return [...this.active.keys()];
  }

  private async scan(force: boolean): Promise<void> {
    if (this.stopping) return;
    const ids = await this.deps.replays.claimable(force ? FAR_FUTURE : this.deps.now());
    for (const id of ids) {
      if (this.active.has(id)) continue;
      if (this.active.size >= (this.deps.maxActive ?? 4)) break;
      this.launch(id, force);
    }
  }

  private launch(id: string, force: boolean): void {
    const abort = new AbortController();
    const entry: ActiveReplay = { abort, done: Promise.resolve() };
    this.active.set(id, entry);
    entry.done = this.run(id, abort, force)
      .catch((err) => {
        this.deps.log.error({ err, replayId: id }, 'replay stopped by an error; it resumes later');
        return this.deps.replays.release(id, this.deps.instanceId).catch(() => {});
      })
      .finally(() => {
        if (this.active.get(id) === entry) this.active.delete(id);
      });
  }

  private async run(id: string, abort: AbortController, force: boolean): Promise<void> {
    const { deps } = this;
    const now = deps.now();
    const replay = await deps.replays.claim(id, deps.instanceId, force ? FAR_FUTURE : now, new Date(now.getTime() + this.leaseMs));
    if (!replay) return; // another process has it, or it is no longer open
    const heartbeat = setInterval(() => void this.renew(id, abort), Math.max(50, this.leaseMs / 3));
    heartbeat.unref();
    try {
      const def = deps.versionDefinition(replay.chain, replay.version);
      if (!def) {
        await this.finish(replay, 'failed', `Version '${replay.version}' of chain '${replay.chain}' is not registered.`);
        return;
      }
      const adapter = deps.adapters.get(replay.chain, replay.version, def);
      // Until no case is left without a result (one pass, unless a case failed to commit).
      do {
        await this.workThrough(replay, adapter, abort.signal);
        if (abort.signal.aborted || this.stopping) {
          // Cancelled (already final), lease lost (another process continues), or shutting down.
          if (this.stopping) await deps.replays.release(id, deps.instanceId);
          return;
        }
      } while ((await deps.replays.pendingWork(replay, undefined, 1)).length > 0);
      await this.finish(replay, 'done');
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async renew(id: string, abort: AbortController): Promise<void> {
    if (abort.signal.aborted) return;
    try {
      const now = this.deps.now();
      const held = await this.deps.replays.claim(id, this.deps.instanceId, now, new Date(now.getTime() + this.leaseMs));
      if (!held) abort.abort(new Error('lease lost or replay closed'));
    } catch (err) {
      // A database hiccup: keep going; the next renewal tries again before the lease runs out.
      this.deps.log.warn({ err, replayId: id }, 'replay lease not renewed');
    }
  }

  private async finish(replay: Replay, status: 'done' | 'failed', error?: string): Promise<void> {
    const { deps } = this;
    const dataset = await deps.datasets.get(replay.datasetId);
    const result = summarizeReplay(await deps.replays.scored(replay.id), dataset?.fields ?? [], replay.repeats);
    const finished = await deps.replays.finish(replay.id, deps.instanceId, status, deps.now(), result, error);
    if (finished) {
      deps.log.info({ replayId: replay.id, status, cases: result.cases, overrideRate: result.overrideRate }, 'replay finished');
      deps.onFinished?.(finished);
    } else if (!(await deps.replays.get(replay.id))) {
      // Deleted with its dataset after a cancel (a running replay's dataset cannot be deleted): nothing to finish or resume.
      deps.log.info({ replayId: replay.id, datasetId: replay.datasetId }, 'replay gone with its dataset; stopped');
    }
  }

  /** Runs every case without a result, `concurrency` at a time, committing each as it finishes. */
  private async workThrough(replay: Replay, adapter: ChainAdapter, signal: AbortSignal): Promise<void> {
    const buffer: ReplayWorkItem[] = [];
    let cursor: ResultCursor | undefined;
    let exhausted = false;
    let fetching: Promise<void> | undefined;
    const refill = async (): Promise<void> => {
      const page = await this.deps.replays.pendingWork(replay, cursor, PAGE);
      buffer.push(...page);
      const last = page[page.length - 1];
      if (last) cursor = { seq: last.case.seq, repeat: last.repeat };
      if (page.length < PAGE) exhausted = true;
    };
    const next = async (): Promise<ReplayWorkItem | undefined> => {
      while (buffer.length === 0 && !exhausted && !signal.aborted) {
        fetching ??= refill().finally(() => (fetching = undefined));
        await fetching;
      }
      return signal.aborted ? undefined : buffer.shift();
    };
    // A failure to commit stops every worker from taking more (each finishes its case), then surfaces.
    let failure: { err: unknown } | undefined;
    const worker = async (): Promise<void> => {
      try {
        for (;;) {
          if (signal.aborted || this.stopping || failure) return;
          const item = await next();
          if (!item) return;
          await this.runCase(replay, adapter, item, signal);
        }
      } catch (err) {
        failure ??= { err };
      }
    };
    await Promise.all(Array.from({ length: replay.concurrency }, worker));
    if (failure) throw failure.err;
  }

  private async runCase(replay: Replay, adapter: ChainAdapter, item: ReplayWorkItem, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    let result: ChainResult | undefined;
    let error: UpstreamError | undefined;
    try {
      result = await adapter.invoke(item.case.input, signal);
    } catch (err) {
      error =
        err instanceof UpstreamError
          ? err
          : new UpstreamError('failed', `The chain's upstream failed: ${(err as Error)?.message ?? String(err)}`);
    }
    // Cut off by a cancel or a shutdown: no result, so a resumed replay runs it again.
    if (signal.aborted) return;
    const latencyMs = performance.now() - started;
    const score = result ? scoreCase(result.output, item.case.expected, item.case.trackedFields) : { overridden: false, fields: [] };
    await this.deps.replays.recordResult({
      replayId: replay.id,
      caseId: item.case.id,
      seq: item.case.seq,
      repeat: item.repeat,
      ...(result
        ? { output: this.deps.redactOutput(replay.chain, result.output) }
        : { error: { code: error!.code, message: error!.message } }),
      overridden: score.overridden,
      fields: score.fields,
      latencyMs,
      ...(result?.usage?.promptTokens === undefined ? {} : { promptTokens: result.usage.promptTokens }),
      ...(result?.usage?.completionTokens === undefined ? {} : { completionTokens: result.usage.completionTokens }),
      at: this.deps.now(),
    });
  }
}
