/**
 * Shadow runs as the rest of the gateway sees them (README "Shadow runs"): the paired report of a
 * rollout (GET /v1/rollouts/{id}/shadow, and `shadow` in the comparison), and the human's record
 * of a shadowed control run, queued when its feedback arrives so the pair can be scored whichever
 * half comes second.
 */
import { foldFields, nameableFields } from '../overrides/counted-fields.js';
import type { Feedback, Run } from '../model/run.js';
import type { Rollout } from '../model/rollout.js';
import type { ShadowExpectation, ShadowRepository } from '../ports/shadow-repository.js';
import { buildExpectation, type FeedbackForm, type OutputRedaction } from '../shadow/expectation.js';
import type { PairedCounts } from '../shadow/paired-interval.js';
import { assembleShadowReport, type ShadowReport } from '../shadow/shadow-report.js';

export interface ShadowServiceDeps {
  rollouts: { get(id: string): Promise<Rollout> };
  repository: Pick<ShadowRepository, 'aggregates' | 'pairedCounts'>;
  /** Queues the human's record for the shadow store (src/runtime/shadow-writer.ts). */
  recorder: { recordExpectation(e: ShadowExpectation): void };
  /** The chain's declared `trackedFields` (overrides/counted-fields.ts). */
  trackedFields?: (chainId: string) => readonly string[] | null | undefined;
  /** The chain's output redaction (RunRedactor.redact's output part). */
  redact: (chainId: string, output: unknown) => ReturnType<OutputRedaction>;
  /** A record that could not be built is logged, never thrown at the feedback's sender. */
  onError?: (err: unknown, runId: string) => void;
}

export type RolloutShadowReport = { rolloutId: string; chain: string; control: string; candidate: string } & ShadowReport;

export class ShadowService {
  constructor(private readonly deps: ShadowServiceDeps) {}

  async report(rolloutId: string): Promise<RolloutShadowReport> {
    return this.reportFor(await this.deps.rollouts.get(rolloutId));
  }

  /**
   * The 2×2 table of a rollout's scored shadow pairs (the shadow gate): overall, or with
   * `servedSince` those of the stage that started then (README "Shadow runs").
   */
  pairedCounts(rolloutId: string, servedSince?: Date): Promise<PairedCounts> {
    return this.deps.repository.pairedCounts(rolloutId, servedSince === undefined ? {} : { servedSince });
  }

  /** The report of a rollout that has `shadow` set, else undefined (the comparison's `shadow`). */
  async reportIfShadowed(rolloutId: string): Promise<RolloutShadowReport | undefined> {
    const rollout = await this.deps.rollouts.get(rolloutId);
    return rollout.spec.shadow === undefined ? undefined : this.reportFor(rollout);
  }

  async reportFor(rollout: Rollout): Promise<RolloutShadowReport> {
    const aggregates = await this.deps.repository.aggregates(rollout.id);
    return {
      rolloutId: rollout.id,
      chain: rollout.chainId,
      control: rollout.control,
      candidate: rollout.candidate,
      ...assembleShadowReport(aggregates, rollout.spec.alpha),
    };
  }

  /**
   * Feedback on a run: when the run was mirrored, its human record goes to the shadow store, where
   * it completes (and scores) the pair if the shadow call has finished, or waits for it.
   */
  feedbackReceived(run: Run, body: FeedbackForm, feedback: Feedback): void {
    if (!run.shadowRunId) return;
    let expected;
    const named = nameableFields(run.output, this.deps.trackedFields?.(run.chainId));
    try {
      expected = { ...buildExpectation(run, body, (output) => this.deps.redact(run.chainId, output)), named };
    } catch (err) {
      this.deps.onError?.(err, run.id);
      return;
    }
    this.deps.recorder.recordExpectation({
      id: run.shadowRunId,
      shadowOf: run.id,
      rolloutId: run.rolloutId,
      chainId: run.chainId,
      tenantId: run.tenantId,
      environment: run.environment,
      stage: run.stage,
      createdAt: run.createdAt,
      expected,
      feedbackAt: feedback.at,
      controlOverridden: feedback.overridden,
      controlFields: foldFields(feedback.fields, named),
    });
  }
}
