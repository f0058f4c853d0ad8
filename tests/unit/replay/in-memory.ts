/** In-memory implementations of the dataset and replay ports, for unit tests of the runner and services. */
import { randomUUID } from 'node:crypto';
import type { Dataset, DatasetCase, DatasetFilter, NewDatasetCase, ReviewedRun } from '../../../src/domain/model/dataset.js';
import type { NewReplay, Replay, ReplayCaseResult, ReplayResult, ReplayStatus, ScoredResult } from '../../../src/domain/model/replay.js';
import type { AppendOutcome, DatasetRepository, DeleteOutcome, NewDataset } from '../../../src/domain/ports/dataset-repository.js';
import type { CreateReplayOutcome, ReplayRepository, ReplayWorkItem, ResultCursor } from '../../../src/domain/ports/replay-repository.js';

export class MemoryDatasets implements DatasetRepository {
  readonly datasets = new Map<string, Dataset>();
  readonly cases = new Map<string, DatasetCase[]>();
  runs: ReviewedRun[] = [];
  replayed = new Set<string>();

  async reviewedRuns(_chain: string, f: DatasetFilter): Promise<ReviewedRun[]> {
    return this.runs.slice(0, f.limit);
  }
  async create(d: NewDataset, cases: readonly NewDatasetCase[], fields: readonly string[]): Promise<Dataset> {
    const dataset: Dataset = {
      id: d.id,
      name: d.name,
      chain: d.chain,
      filter: d.filter,
      cases: 0,
      redactedInputs: 0,
      fields: [],
      createdAt: d.createdAt,
    };
    this.datasets.set(d.id, dataset);
    this.cases.set(d.id, []);
    this.add(dataset, cases, fields);
    return dataset;
  }
  async appendCases(id: string, cases: readonly NewDatasetCase[], maxCases: number, fields: readonly string[]): Promise<AppendOutcome> {
    const d = this.datasets.get(id);
    if (!d) return { refused: 'not_found' };
    if (this.replayed.has(id)) return { refused: 'has_replays' };
    if (d.cases + cases.length > maxCases) return { refused: 'too_many_cases' };
    this.add(d, cases, fields);
    return { ok: d };
  }
  private add(d: Dataset, cases: readonly NewDatasetCase[], fields: readonly string[]): void {
    const list = this.cases.get(d.id)!;
    for (const c of cases)
      list.push({
        id: randomUUID(),
        seq: list.length,
        input: c.input,
        expected: c.expected,
        trackedFields: c.trackedFields,
        source: c.source,
      });
    d.cases = list.length;
    d.redactedInputs += cases.filter((c) => c.inputRedacted).length;
    d.fields = [...new Set([...d.fields, ...fields])].sort();
  }
  async get(id: string) {
    return this.datasets.get(id);
  }
  async list() {
    return [...this.datasets.values()];
  }
  async listCases(id: string, afterSeq: number, limit: number) {
    return (this.cases.get(id) ?? []).filter((c) => c.seq > afterSeq).slice(0, limit);
  }
  /** Open replays of a dataset, as the database would see them (set by MemoryReplays). */
  openReplay?: (datasetId: string) => string | undefined;
  async delete(id: string): Promise<DeleteOutcome> {
    if (!this.datasets.has(id)) return { refused: 'not_found' };
    const replayId = this.openReplay?.(id);
    if (replayId) return { refused: 'replaying', replayId };
    this.datasets.delete(id);
    this.cases.delete(id);
    return { ok: true };
  }
  async eraseTenant() {
    return 0;
  }
}

type Row = Replay & { runner: string | null; leaseUntil: Date | null };

export class MemoryReplays implements ReplayRepository {
  readonly rows = new Map<string, Row>();
  readonly results = new Map<string, ReplayCaseResult>();
  /** Attempts to record a result that already existed. */
  duplicates = 0;

  constructor(private readonly datasets: MemoryDatasets) {
    datasets.openReplay = (datasetId) =>
      [...this.rows.values()].find((r) => r.datasetId === datasetId && (r.status === 'queued' || r.status === 'running'))?.id;
  }

  async create(r: NewReplay): Promise<CreateReplayOutcome> {
    const d = this.datasets.datasets.get(r.datasetId);
    if (!d) return { refused: 'dataset_not_found' };
    if (d.cases === 0) return { refused: 'dataset_empty' };
    this.datasets.replayed.add(r.datasetId);
    const row: Row = {
      ...r,
      status: 'queued',
      total: d.cases * r.repeats,
      error: null,
      result: null,
      startedAt: null,
      finishedAt: null,
      runner: null,
      leaseUntil: null,
    };
    this.rows.set(r.id, row);
    return { ok: { ...row } };
  }
  async get(id: string) {
    const r = this.rows.get(id);
    return r ? { ...r } : undefined;
  }
  async list() {
    return [...this.rows.values()];
  }
  async progress(id: string) {
    return [...this.results.values()].filter((r) => r.replayId === id).length;
  }
  async claimable(now: Date) {
    return [...this.rows.values()]
      .filter((r) => (r.status === 'queued' || r.status === 'running') && (!r.leaseUntil || r.leaseUntil < now))
      .map((r) => r.id);
  }
  async claim(id: string, runner: string, now: Date, leaseUntil: Date) {
    const r = this.rows.get(id);
    if (!r || !(r.status === 'queued' || r.status === 'running')) return undefined;
    if (!(r.runner === runner || !r.leaseUntil || r.leaseUntil < now)) return undefined;
    Object.assign(r, { status: 'running', runner, leaseUntil, startedAt: r.startedAt ?? now });
    return { ...r };
  }
  async release(id: string, runner: string) {
    const r = this.rows.get(id);
    if (r?.runner === runner) Object.assign(r, { runner: null, leaseUntil: null });
  }
  async pendingWork(
    replay: Pick<Replay, 'id' | 'datasetId' | 'repeats'>,
    after: ResultCursor | undefined,
    limit: number,
  ): Promise<ReplayWorkItem[]> {
    const out: ReplayWorkItem[] = [];
    for (const c of this.datasets.cases.get(replay.datasetId) ?? []) {
      for (let repeat = 0; repeat < replay.repeats; repeat++) {
        if (after && (c.seq < after.seq || (c.seq === after.seq && repeat <= after.repeat))) continue;
        if (this.results.has(`${replay.id}/${c.id}/${repeat}`)) continue;
        out.push({ case: c, repeat });
        if (out.length === limit) return out;
      }
    }
    return out;
  }
  async recordResult(r: ReplayCaseResult) {
    const k = `${r.replayId}/${r.caseId}/${r.repeat}`;
    if (this.results.has(k)) {
      this.duplicates++;
      return false;
    }
    this.results.set(k, r);
    return true;
  }
  async scored(id: string): Promise<ScoredResult[]> {
    return [...this.results.values()]
      .filter((r) => r.replayId === id)
      .map((r) => ({
        caseId: r.caseId,
        repeat: r.repeat,
        overridden: r.overridden,
        fields: r.fields,
        latencyMs: r.latencyMs,
        errored: r.error !== undefined,
      }));
  }
  async listResults() {
    return [];
  }
  async finish(
    id: string,
    runner: string | null,
    status: Exclude<ReplayStatus, 'queued' | 'running'>,
    now: Date,
    result?: ReplayResult,
    error?: string,
  ) {
    const r = this.rows.get(id);
    if (!r || !(r.status === 'queued' || r.status === 'running') || (runner !== null && r.runner !== runner)) return undefined;
    Object.assign(r, { status, finishedAt: now, runner: null, leaseUntil: null, result: result ?? null, error: error ?? null });
    return { ...r };
  }
}
