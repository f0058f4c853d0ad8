/**
 * The ReplayRepository port: replays, the lease of the process running each, and their results,
 * committed one by one under a unique (replay, case, repeat) key so that a result is never stored
 * twice, whoever runs it.
 */
import type { DatasetCase } from '../model/dataset.js';
import type { NewReplay, Replay, ReplayCaseResult, ReplayResult, ReplayStatus, ScoredResult } from '../model/replay.js';

export type CreateReplayOutcome = { ok: Replay } | { refused: 'dataset_not_found' | 'dataset_empty' };

/** One piece of work: a case and which of its repeats. */
export interface ReplayWorkItem {
  case: DatasetCase;
  repeat: number;
}

export interface ResultCursor {
  seq: number;
  repeat: number;
}

export interface ReplayRepository {
  /** Creates a queued replay of the dataset's cases (total = cases × repeats); locks the dataset against uploads from then on. */
  create(replay: NewReplay): Promise<CreateReplayOutcome>;
  get(id: string): Promise<Replay | undefined>;
  list(filter: { datasetId?: string; rolloutId?: string }): Promise<Replay[]>;
  /** Results committed so far. */
  progress(id: string): Promise<number>;
  /** Ids of queued or running replays whose lease is free or expired at `now`. */
  claimable(now: Date): Promise<string[]>;
  /**
   * Takes the lease (queued → running) when it is free or expired, or renews it for its holder;
   * undefined when another runner holds it or the replay is no longer open.
   */
  claim(id: string, runner: string, now: Date, leaseUntil: Date): Promise<Replay | undefined>;
  /** Gives the lease back (graceful shutdown): another process may take it at once. */
  release(id: string, runner: string): Promise<void>;
  /** Cases × repeats without a result, ordered by (seq, repeat), after `after`. */
  pendingWork(
    replay: Pick<Replay, 'id' | 'datasetId' | 'repeats'>,
    after: ResultCursor | undefined,
    limit: number,
  ): Promise<ReplayWorkItem[]>;
  /** Commits one result; false when that (case, repeat) already had one, or its case or replay is gone (erased, deleted). */
  recordResult(result: ReplayCaseResult): Promise<boolean>;
  /** The scored projection of every result, for summaries and comparisons. */
  scored(id: string): Promise<ScoredResult[]>;
  /** Results in (seq, repeat) order after the cursor, optionally only the overridden ones. */
  listResults(
    id: string,
    opts: { overridden?: boolean; after?: ResultCursor; limit: number },
  ): Promise<(ReplayCaseResult & { input: unknown; expected: unknown })[]>;
  /** Moves an open replay to a final status (only its lease holder, unless `runner` is null). */
  finish(
    id: string,
    runner: string | null,
    status: Exclude<ReplayStatus, 'queued' | 'running'>,
    now: Date,
    result?: ReplayResult,
    error?: string,
  ): Promise<Replay | undefined>;
}
