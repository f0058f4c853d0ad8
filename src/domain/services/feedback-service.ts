/**
 * Human feedback: which fields of a run's output the reviewer changed. Re-sending replaces the
 * earlier feedback (last received wins, counted once: the read models apply the difference).
 */
import type { RunRedactor } from '../../redaction/run-redactor.js';
import type { Principal } from '../auth/principal.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../model/errors.js';
import type { Feedback, Run } from '../model/run.js';
import { diffFinal, diffOverrides } from '../overrides/diff-overrides.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunRepository } from '../ports/run-repository.js';

export type FeedbackBody =
  | { final: unknown; overrides?: undefined; reviewer?: string }
  | { overrides: { field: string; value?: unknown }[]; final?: undefined; reviewer?: string };

export interface FeedbackResult {
  runId: string;
  overridden: boolean;
  fields: string[];
}

export interface FeedbackDeps {
  store: Pick<RunRepository, 'getRun' | 'latestByExternalId'>;
  writer: Pick<RunRecorder, 'recordFeedback' | 'pendingRun' | 'pendingByExternalId'>;
  redactor: RunRedactor;
  now: () => Date;
  /** Told after feedback is queued (guardrails re-evaluate the run's rollout). */
  onFeedback?: (run: Run, fb: Feedback) => void;
  /** Scores the candidate's shadow output of a mirrored run against the human's record (README "Shadow runs"). */
  shadow?: { feedbackReceived(run: Run, body: FeedbackBody, fb: Feedback): void };
}

export class FeedbackService {
  constructor(private readonly deps: FeedbackDeps) {}

  async byRunId(runId: string, body: FeedbackBody, principal: Principal): Promise<FeedbackResult> {
    const run = this.deps.writer.pendingRun(runId) ?? (await this.deps.store.getRun(runId));
    // Another tenant's run reads as missing: its existence is not theirs to learn.
    if (!run || (principal.kind === 'tenant' && principal.tenantId !== run.tenantId)) throw new NotFoundError('Run', runId);
    return this.apply(run, body);
  }

  async byExternalId(chain: string, externalId: string, tenant: string | undefined, body: FeedbackBody, principal: Principal): Promise<FeedbackResult> {
    if (principal.kind === 'tenant') {
      if (tenant !== undefined && tenant !== principal.tenantId) throw new ForbiddenError(`This key belongs to tenant '${principal.tenantId}'.`);
      tenant = principal.tenantId;
    }
    const pending = this.deps.writer.pendingByExternalId(chain, externalId);
    const run =
      pending && (tenant === undefined || pending.tenantId === tenant) ? pending : await this.deps.store.latestByExternalId(chain, externalId, tenant);
    if (!run) throw new NotFoundError('Run', externalId);
    return this.apply(run, body);
  }

  private apply(run: Run, body: FeedbackBody): FeedbackResult {
    if (run.output === null || run.output === undefined) {
      throw new ConflictError(`Run '${run.id}' has no output (its call failed): there is nothing to review.`, { runId: run.id }, 'run_errored');
    }
    const hashes = run.outputHashes ?? undefined;
    const hashValue = (v: unknown) => this.deps.redactor.hashField(v);
    const diff =
      body.final !== undefined
        ? diffFinal(run.output, body.final, hashes ? { hashes, hashValue } : undefined)
        : diffOverrides(run.output, body.overrides!, hashes ? { hashes, hashValue } : undefined);
    const fb: Feedback = {
      runId: run.id,
      overridden: diff.overridden,
      fields: diff.fields,
      reviewer: body.reviewer ?? null,
      at: this.deps.now(),
    };
    this.deps.writer.recordFeedback(fb);
    this.deps.onFeedback?.(run, fb);
    this.deps.shadow?.feedbackReceived(run, body, fb);
    return { runId: run.id, overridden: diff.overridden, fields: diff.fields };
  }
}
