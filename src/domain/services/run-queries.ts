/**
 * Reading runs back, with read-your-writes: a run the gateway answered a moment ago may still be
 * queued for the database (RunRecorder), so a lookup by id or external id asks the queue first;
 * feedback queued for a stored run wins over the stored one. Lists read the database only (a run
 * shows in them once its batch is written, within a second).
 */
import type { RunRedactor } from '../../redaction/run-redactor.js';
import type { Principal } from '../auth/principal.js';
import { DatabaseUnavailableError, NotFoundError } from '../model/errors.js';
import type { Run, RunWithFeedback } from '../model/run.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunCursor, RunFilters, RunRepository } from '../ports/run-repository.js';

export interface RunQueriesDeps {
  store: Pick<RunRepository, 'getRun' | 'latestByExternalId' | 'listRuns'>;
  writer: Pick<RunRecorder, 'pendingRun' | 'pendingByExternalId' | 'pendingFeedbackFor' | 'recentRun'>;
  /** How runs store an external id (its keyed hash under pattern redaction): lookups hash alike. */
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

  /**
   * The run to take feedback on: as `get`, and while the database is away, a run this replica
   * wrote lately (README "Outages"); otherwise the DatabaseUnavailableError stands.
   */
  async forFeedback(runId: string, principal: Principal): Promise<RunWithFeedback> {
    try {
      return await this.get(runId, principal);
    } catch (err) {
      if (!(err instanceof DatabaseUnavailableError)) throw err;
      const recent = this.deps.writer.recentRun?.(runId);
      if (!recent) throw err;
      if (principal.kind === 'tenant' && principal.tenantId !== recent.tenantId) throw new NotFoundError('Run', runId);
      return { ...recent, feedback: this.deps.writer.pendingFeedbackFor(runId) ?? null };
    }
  }

  /** The newest run with this external id, queued or stored (of this tenant, when given). */
  async latestByExternalId(chainId: string, externalId: string, tenantId?: string): Promise<Run | undefined> {
    const stored = this.deps.redactor.storedExternalId(chainId, externalId);
    const pending = this.deps.writer.pendingByExternalId(chainId, stored, tenantId);
    if (pending) return pending;
    return this.deps.store.latestByExternalId(chainId, stored, tenantId);
  }

  /** Newest first, keyset-paged; stored runs only. An external id matches as the chain stores it (with no chain: either form). */
  list(filters: RunFilters, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]> {
    const id = filters.externalId;
    const externalId =
      typeof id !== 'string'
        ? id
        : filters.chain !== undefined
          ? this.deps.redactor.storedExternalId(filters.chain, id)
          : this.deps.redactor.storedExternalIdForms(id);
    return this.deps.store.listRuns({ ...filters, externalId }, limit, cursor);
  }
}
