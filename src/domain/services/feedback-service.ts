/**
 * Human feedback: which fields of a run's output the reviewer changed. Re-sending replaces the
 * earlier feedback (last received wins, counted once: the read models apply the difference).
 *
 * A run another replica answered a moment ago may not be in the database yet (each replica writes
 * its runs in batches, within a second): feedback for it waits up to `waitMs` (FEEDBACK_WAIT_MS)
 * for the run to land before answering 404. By run id it waits only when the id says the run was
 * created in the last RECENT_RUN_MS (run ids carry their time: model/run-ids.ts), so an id that
 * names no run is a 404 at once.
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
import { runIdTime } from '../model/run-ids.js';
import type { RunQueries } from './run-queries.js';

/** How old a run may be and still be on its way from another replica (a database that is slow to take writes). */
const RECENT_RUN_MS = 5 * 60_000;
/** Clocks of replicas disagree a little: an id up to this far in the future is recent too. */
const CLOCK_SKEW_MS = 5_000;
/** Between two looks for a run that has not landed: short first, then at most this. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 500;

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
  runs: Pick<RunQueries, 'forFeedback' | 'latestByExternalId'>;
  writer: Pick<RunRecorder, 'recordFeedback'>;
  redactor: RunRedactor;
  /** FeedbackReceived once feedback is queued (metrics; the guardrails re-evaluate the run's rollout once it is stored). */
  events: EventPublisher<Pick<DomainEvents, 'FeedbackReceived'>>;
  now: () => Date;
  /** The chain's declared `trackedFields` (null or absent: none declared): what the read models count by name. */
  trackedFields?: (chainId: string) => readonly string[] | null | undefined;
  /** FEEDBACK_WAIT_MS: how long feedback waits for a run that has not landed yet; 0 or absent: not at all. */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class FeedbackService {
  constructor(private readonly deps: FeedbackDeps) {}

  async byRunId(runId: string, body: FeedbackBody, principal: Principal): Promise<FeedbackResult> {
    const find = async () => {
      try {
        return await this.deps.runs.forFeedback(runId, principal);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    };
    const run = await this.untilLanded(find, this.mayBeLanding(runId));
    if (!run) throw new NotFoundError('Run', runId);
    return this.apply(run, body);
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
    const run = await this.untilLanded(() => this.deps.runs.latestByExternalId(chain, externalId, tenant), true);
    // Named by chain and external id: an unknown chain (a typo) reads as one, not as a missing run id.
    if (!run)
      throw new NotFoundError('Run', externalId, `No run of chain '${chain}' has externalId '${externalId}'.`, { chain, externalId });
    return this.apply(run, body);
  }

  /** Whether a run with this id could still be on its way from another replica. */
  private mayBeLanding(runId: string): boolean {
    const t = runIdTime(runId);
    if (t === undefined) return false;
    const age = this.deps.now().getTime() - t;
    return age <= RECENT_RUN_MS && age >= -CLOCK_SKEW_MS;
  }

  /** `find`, and while it finds nothing and waiting is worth it, again after a pause, until `waitMs` have passed. */
  private async untilLanded<T>(find: () => Promise<T | undefined>, worthWaiting: boolean): Promise<T | undefined> {
    const found = await find();
    const waitMs = this.deps.waitMs ?? 0;
    if (found !== undefined || !worthWaiting || waitMs <= 0) return found;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const deadline = Date.now() + waitMs;
    for (let pause = FIRST_RETRY_MS; ; pause = Math.min(MAX_RETRY_MS, pause * 2)) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(pause, left));
      const again = await find();
      if (again !== undefined) return again;
    }
  }

  private apply(run: Run, body: FeedbackBody): FeedbackResult {
    // A failed call has no output; a call that answered JSON null has, and is reviewed like any other.
    if (run.error !== null && run.error !== undefined && !run.fallback) {
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
