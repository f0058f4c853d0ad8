/**
 * Replays of a dataset: queue one (the runner picks it up), follow it, cancel it, read its
 * results case by case, and compare two replays of one dataset pair by pair.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../model/errors.js';
import type { Replay, ReplayRequest, ReplayResult } from '../model/replay.js';
import { comparePaired, type PairedComparison } from '../replay/paired-comparison.js';
import { summarizeReplay } from '../replay/summarize.js';
import type { DatasetRepository } from '../ports/dataset-repository.js';
import type { ReplayRepository, ResultCursor } from '../ports/replay-repository.js';

export interface ReplayServiceDeps {
  replays: ReplayRepository;
  datasets: DatasetRepository;
  /** Whether the chain has that version (replays run registered versions only). */
  hasVersion: (chain: string, version: string) => boolean;
  now: () => Date;
  /** Told when a replay is queued (the runner starts it here at once) and cancelled (it stops here at once). */
  onQueued?: (replay: Replay) => void;
  onCancelled?: (replay: Replay) => void;
}

export interface ReplayStatusView {
  replay: Replay;
  done: number;
  /** Frozen when done; over the cases that finished, for a cancelled or failed replay. */
  result?: ReplayResult;
}

export class ReplayService {
  constructor(private readonly deps: ReplayServiceDeps) {}

  async start(datasetId: string, req: ReplayRequest, rolloutId: string | null = null): Promise<Replay> {
    const dataset = await this.deps.datasets.get(datasetId);
    if (!dataset) throw new NotFoundError('Dataset', datasetId);
    if (!this.deps.hasVersion(dataset.chain, req.version)) throw new NotFoundError('Version', req.version);
    const outcome = await this.deps.replays.create({
      id: randomUUID(),
      datasetId,
      chain: dataset.chain,
      version: req.version,
      concurrency: req.concurrency,
      repeats: req.repeats,
      rolloutId,
      createdAt: this.deps.now(),
    });
    if ('refused' in outcome) {
      if (outcome.refused === 'dataset_not_found') throw new NotFoundError('Dataset', datasetId);
      throw new ConflictError('The dataset has no cases: upload some first.', { datasetId }, 'dataset_empty');
    }
    this.deps.onQueued?.(outcome.ok);
    return outcome.ok;
  }

  async get(id: string): Promise<Replay> {
    const replay = await this.deps.replays.get(id);
    if (!replay) throw new NotFoundError('Replay', id);
    return replay;
  }

  list(filter: { datasetId?: string; rolloutId?: string }): Promise<Replay[]> {
    return this.deps.replays.list(filter);
  }

  async status(id: string): Promise<ReplayStatusView> {
    const replay = await this.get(id);
    const done = await this.deps.replays.progress(id);
    if (replay.result) return { replay, done, result: replay.result };
    if ((replay.status === 'cancelled' || replay.status === 'failed') && done > 0)
      return { replay, done, result: await this.summarize(replay) };
    return { replay, done };
  }

  /** The summary of whatever results the replay has. */
  async summarize(replay: Replay): Promise<ReplayResult> {
    const dataset = await this.deps.datasets.get(replay.datasetId);
    return summarizeReplay(await this.deps.replays.scored(replay.id), dataset?.fields ?? [], replay.repeats);
  }

  /** Cancelling a cancelled replay is a no-op; a finished one is a 409. */
  async cancel(id: string): Promise<Replay> {
    const replay = await this.get(id);
    if (replay.status === 'cancelled') return replay;
    if (replay.status === 'done' || replay.status === 'failed')
      throw new ConflictError(`The replay is ${replay.status}; it cannot be cancelled.`, { status: replay.status });
    const cancelled = await this.deps.replays.finish(id, null, 'cancelled', this.deps.now());
    if (!cancelled) return this.cancel(id); // it finished meanwhile: answer by its state now
    this.deps.onCancelled?.(cancelled);
    return cancelled;
  }

  async cases(id: string, opts: { overridden?: boolean; after?: ResultCursor; limit: number }) {
    await this.get(id);
    return this.deps.replays.listResults(id, opts);
  }

  /** b − a over the pairs of two replays of one dataset. */
  async compare(aId: string, bId: string): Promise<PairedComparison & { a: Replay; b: Replay }> {
    const [a, b] = await Promise.all([this.get(aId), this.get(bId)]);
    if (a.datasetId !== b.datasetId) {
      throw new BadRequestError(
        'The two replays are of different datasets; a paired comparison needs the same cases.',
        { a: a.datasetId, b: b.datasetId },
        'different_datasets',
      );
    }
    const [dataset, ra, rb] = await Promise.all([
      this.deps.datasets.get(a.datasetId),
      this.deps.replays.scored(a.id),
      this.deps.replays.scored(b.id),
    ]);
    return { ...comparePaired(ra, rb, { fields: dataset?.fields ?? [] }), a, b };
  }
}
