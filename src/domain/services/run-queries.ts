/**
 * Reading runs back, with read-your-writes: a run the gateway answered a moment ago may still be
 * queued for the database (RunRecorder), so a lookup by id or external id asks the queue first;
 * feedback queued for a stored run wins over the stored one. Lists read the database only (a run
 * shows in them once its batch is written, within a second).
 */
import type { Principal } from '../auth/principal.js';
import { NotFoundError } from '../model/errors.js';
import type { Run, RunWithFeedback } from '../model/run.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunCursor, RunFilters, RunRepository } from '../ports/run-repository.js';
import type { RunRedactor } from '../../redaction/run-redactor.js';

export interface RunQueriesDeps {
  store: Pick<RunRepository, 'getRun' | 'latestByExternalId' | 'listRuns'>;
  writer: Pick<RunRecorder, 'pendingRun' | 'pendingByExternalId' | 'pendingFeedbackFor'>;
  /** Under pattern redaction an external id is stored as its keyed hash: lookups ask for that form. */
  redactor: Pick<RunRedactor, 'storedExternalId' | 'storedExternalIdForms'>;
}

export class RunQueries {
  constructor(private readonly deps: RunQueriesDeps) {}

  /** The run, queued or stored, with its latest feedback. Another tenant's run reads as missing: its existence is not theirs to learn. */
  async get(runId: string, principal: Principal): Promise<RunWithFeedback> {
    const pending = this.deps.writer.pendingRun(runId);
    const run = pending ? { ...pending, feedback: null } : await this.deps.store.getRun(runId);
    if (!run || (principal.kind === 'tenant' && principal.tenantId !== run.tenantId)) throw new NotFoundError('Run', runId);
    return { ...run, feedback: this.deps.writer.pendingFeedbackFor(runId) ?? run.feedback };
  }

  /** The newest run with this external id, queued or stored (of this tenant, when given). */
  async latestByExternalId(chainId: string, rawExternalId: string, tenantId?: string): Promise<Run | undefined> {
    const externalId = this.deps.redactor.storedExternalId(chainId, rawExternalId);
    const pending = this.deps.writer.pendingByExternalId(chainId, externalId);
    if (pending && (tenantId === undefined || pending.tenantId === tenantId)) return pending;
    return this.deps.store.latestByExternalId(chainId, externalId, tenantId);
  }

  /** Newest first, keyset-paged; stored runs only. */
  list(filters: RunFilters & { externalId?: string }, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]> {
    const raw = filters.externalId;
    const externalId =
      raw === undefined
        ? undefined
        : filters.chain !== undefined
          ? this.deps.redactor.storedExternalId(filters.chain, raw)
          : this.deps.redactor.storedExternalIdForms(raw);
    return this.deps.store.listRuns({ ...filters, externalId }, limit, cursor);
  }
}
