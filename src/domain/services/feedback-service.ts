/**
 * Human feedback: which fields of a run's output the reviewer changed. Re-sending replaces the
 * earlier feedback (last received wins, counted once: the read models apply the difference).
 */
import type { RunRedactor } from '../../redaction/run-redactor.js';
import type { Principal } from '../auth/principal.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../model/errors.js';
import type { Feedback, Run } from '../model/run.js';
import type { DomainEvents } from '../model/events.js';
import { countedFields } from '../overrides/counted-fields.js';
import { diffFinal, diffOverrides } from '../overrides/diff-overrides.js';
import { humanCorrections } from '../overrides/human-record.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunQueries } from './run-queries.js';

export type FeedbackBody =
  | { final: unknown; overrides?: undefined; reviewer?: string }
  | { overrides: { field: string; value?: unknown }[]; final?: undefined; reviewer?: string };

export interface FeedbackResult {
  runId: string;
  overridden: boolean;
  fields: string[];
}

export interface FeedbackDeps {
  /** Runs, queued or stored. */
  runs: Pick<RunQueries, 'get' | 'latestByExternalId'>;
  writer: Pick<RunRecorder, 'recordFeedback'>;
  redactor: RunRedactor;
  /** FeedbackReceived once feedback is queued (metrics; the guardrails re-evaluate the run's rollout once it is stored). */
  events: EventPublisher<Pick<DomainEvents, 'FeedbackReceived'>>;
  now: () => Date;
  /** The chain's declared `trackedFields` (null or absent: none declared): what the read models count by name. */
  trackedFields?: (chainId: string) => readonly string[] | null | undefined;
}

export class FeedbackService {
  constructor(private readonly deps: FeedbackDeps) {}

  async byRunId(runId: string, body: FeedbackBody, principal: Principal): Promise<FeedbackResult> {
    return this.apply(await this.deps.runs.get(runId, principal), body);
  }

  async byExternalId(
    chain: string,
    externalId: string,
    tenant: string | undefined,
    body: FeedbackBody,
    principal: Principal,
  ): Promise<FeedbackResult> {
    if (principal.kind === 'tenant') {
      if (tenant !== undefined && tenant !== principal.tenantId)
        throw new ForbiddenError(`This key belongs to tenant '${principal.tenantId}'.`);
      tenant = principal.tenantId;
    }
    const run = await this.deps.runs.latestByExternalId(chain, externalId, tenant);
    if (!run) throw new NotFoundError('Run', externalId);
    return this.apply(run, body);
  }

  private apply(run: Run, body: FeedbackBody): FeedbackResult {
    if (run.output === null || run.output === undefined) {
      throw new ConflictError(
        `Run '${run.id}' has no output (its call failed): there is nothing to review.`,
        { runId: run.id },
        'run_errored',
      );
    }
    const hashes = run.outputHashes ?? undefined;
    const hashValue = (v: unknown) => this.deps.redactor.hashField(v);
    const diff =
      body.final !== undefined
        ? diffFinal(run.output, body.final, hashes ? { hashes, hashValue } : undefined)
        : diffOverrides(run.output, body.overrides!, hashes ? { hashes, hashValue } : undefined);
    // The human's values too, so the run can become a dataset case (human-record.ts).
    const record = humanCorrections(run.output, body, diff, (value) => this.deps.redactor.redact(run.chainId, undefined, value));
    const fb: Feedback = {
      runId: run.id,
      overridden: diff.overridden,
      fields: diff.fields,
      reviewer: this.deps.redactor.reviewer(run.chainId, body.reviewer),
      at: this.deps.now(),
      corrections: record.corrections,
      tracked: record.tracked,
      countedFields: countedFields(diff.fields, run.output, this.deps.trackedFields?.(run.chainId)),
    };
    this.deps.writer.recordFeedback(fb);
    this.deps.events.publish('FeedbackReceived', { run, feedback: fb, body });
    return { runId: run.id, overridden: diff.overridden, fields: diff.fields };
  }
}
