/**
 * The RunRecorder port: the write path as the services see it. Runs and feedback are queued on
 * the request path (after the journal, when there is one) and written in batches off it; what is
 * queued but not yet stored can be read back (read your writes). src/runtime/run-writer.ts
 * implements it.
 */
import type { Feedback, Run } from '../model/run.js';

export interface RunRecorder {
  /**
   * Queues the run; when a promise comes back the caller answers only after it resolved (the
   * journal wrote the run, a group commit shared with the other runs of the event-loop turn).
   */
  recordRun(run: Run): Promise<void> | undefined | void;
  recordFeedback(fb: Feedback): void;
  /** Throws UnavailableError (503) when no more runs can be kept: checked before an upstream call. */
  assertCapacity(): void;
  /** A run answered but not yet stored. */
  pendingRun(id: string): Run | undefined;
  /** The latest queued run with this chain and external id, of this tenant (when given). */
  pendingByExternalId(chainId: string, externalId: string, tenantId?: string): Run | undefined;
  /** A run this replica wrote lately (kept a while for feedback while the database is away). */
  recentRun?(id: string): Run | undefined;
  /** Feedback queued for the run and not yet stored. */
  pendingFeedbackFor(runId: string): Feedback | undefined;
  /** Writes everything queued so far; rejects when the store refuses. */
  flush(): Promise<void>;
}
