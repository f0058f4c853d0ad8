/**
 * Datasets: built from a chain's reviewed runs by a filter (each run's input, and the record the
 * human accepted as `expected`), or filled by uploads of a team's own cases. Immutable once a
 * replay has read them. Inputs are what the runs stored, so the chain's PII redaction applies;
 * the dataset counts the inputs that hold a redaction placeholder.
 */
import { randomUUID } from 'node:crypto';
import { containsRedaction } from '../../redaction/redaction-marks.js';
import { ConflictError, NotFoundError } from '../model/errors.js';
import {
  MAX_DATASET_CASES,
  type Dataset,
  type DatasetCase,
  type DatasetFilter,
  type NewDatasetCase,
  type ReviewedRun,
  type UploadedCase,
} from '../model/dataset.js';
import { expectedRecord } from '../overrides/human-record.js';
import { comparedFields } from '../overrides/score-case.js';
import type { DatasetRepository } from '../ports/dataset-repository.js';

export interface DatasetServiceDeps {
  datasets: DatasetRepository;
  /** Throws the 404 for an unknown chain. */
  requireChain: (chain: string) => unknown;
  /** Throws the 400 `unknown_environment` for an environment the chain does not accept (as for a rollout stage). */
  requireEnvironment: (chain: string, environment: string, field: string) => void;
  /** Throws the 400 `unknown_tenant` naming the tenants that do not exist (Catalog.requireTenants). */
  requireTenants: (tenants: readonly string[] | undefined, field: string) => void;
  /** The gated rollout that waits on this dataset, if any (the dataset may not be deleted then). */
  gatedRolloutOf?: (datasetId: string) => string | undefined;
  now: () => Date;
}

export interface CreateDatasetRequest {
  name: string;
  chain: string;
  from?: DatasetFilter;
}

export class DatasetService {
  constructor(private readonly deps: DatasetServiceDeps) {}

  async create(req: CreateDatasetRequest): Promise<Dataset> {
    this.deps.requireChain(req.chain);
    if (req.from) this.requireKnownNames(req.chain, req.from);
    const cases = req.from ? (await this.deps.datasets.reviewedRuns(req.chain, req.from)).flatMap(caseFromRun) : [];
    return this.deps.datasets.create(
      { id: randomUUID(), name: req.name, chain: req.chain, filter: req.from ?? null, createdAt: this.deps.now() },
      cases,
      fieldsOf(cases),
    );
  }

  async append(id: string, uploaded: readonly UploadedCase[]): Promise<Dataset> {
    const cases: NewDatasetCase[] = uploaded.map((u) => ({
      input: u.input,
      expected: u.expected,
      trackedFields: u.trackedFields ? [...new Set(u.trackedFields)].sort() : null,
      source: u.source ?? null,
      inputRedacted: containsRedaction(u.input),
    }));
    const outcome = await this.deps.datasets.appendCases(id, cases, MAX_DATASET_CASES, fieldsOf(cases));
    if ('ok' in outcome) return outcome.ok;
    switch (outcome.refused) {
      case 'not_found':
        throw new NotFoundError('Dataset', id);
      case 'has_replays':
        throw new ConflictError(
          'The dataset has been replayed, so it is immutable: create another dataset for more cases.',
          { datasetId: id },
          'dataset_immutable',
        );
      case 'too_many_cases':
        throw new ConflictError(
          `A dataset holds at most ${MAX_DATASET_CASES} cases.`,
          { datasetId: id, max: MAX_DATASET_CASES },
          'dataset_full',
        );
    }
  }

  async get(id: string): Promise<Dataset> {
    const dataset = await this.deps.datasets.get(id);
    if (!dataset) throw new NotFoundError('Dataset', id);
    return dataset;
  }

  list(chain?: string): Promise<Dataset[]> {
    return this.deps.datasets.list(chain);
  }

  /** A page of cases after position `afterSeq` (-1: from the start). */
  async cases(id: string, afterSeq: number, limit: number): Promise<DatasetCase[]> {
    await this.get(id);
    return this.deps.datasets.listCases(id, afterSeq, limit);
  }

  /** Every case, page by page, for an export that streams. */
  async *allCases(id: string, pageSize = 500): AsyncGenerator<DatasetCase> {
    await this.get(id);
    let after = -1;
    for (;;) {
      const page = await this.deps.datasets.listCases(id, after, pageSize);
      for (const c of page) yield c;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /**
   * Deletes a dataset unless something still needs it (409 `dataset_in_use`): a gated rollout
   * (its gate's replays and figures are the evidence a person decides on, even once the gate is
   * inconclusive), or a replay that is queued or running (its results would lose their rows).
   */
  async delete(id: string): Promise<void> {
    const rolloutId = this.deps.gatedRolloutOf?.(id);
    if (rolloutId)
      throw new ConflictError(
        `Rollout ${rolloutId} is gated on this dataset. Delete it once the rollout is no longer gated: its gate passed or failed, it was started with {"override": true} or rolled back (POST /v1/rollouts/${rolloutId}/rollback).`,
        { datasetId: id, rolloutId },
        'dataset_in_use',
      );
    const outcome = await this.deps.datasets.delete(id);
    if ('ok' in outcome) return;
    if (outcome.refused === 'not_found') throw new NotFoundError('Dataset', id);
    throw new ConflictError(
      `Replay ${outcome.replayId} of this dataset is running. Cancel it (POST /v1/replays/${outcome.replayId}/cancel) or wait until it is done, then delete the dataset.`,
      { datasetId: id, replayId: outcome.replayId },
      'dataset_in_use',
    );
  }

  /**
   * A filter's tenants and environments must exist, as a rollout stage's must: a typo would
   * otherwise match no run and make an empty dataset without a word (400 `unknown_tenant`,
   * `unknown_environment`, in the rollout's words).
   */
  private requireKnownNames(chain: string, from: DatasetFilter): void {
    from.environments?.forEach((e, j) => this.deps.requireEnvironment(chain, e, `body.from.environments.${j}`));
    this.deps.requireTenants(from.tenants, 'body.from.tenants');
  }
}

/** A reviewed run as a case, or nothing when its human record cannot be known (human-record.ts). */
function caseFromRun(run: ReviewedRun): NewDatasetCase[] {
  const record = expectedRecord(run);
  if (!record) return [];
  return [
    {
      input: run.input,
      expected: record.expected,
      trackedFields: record.trackedFields,
      source: { runId: run.runId, tenant: run.tenant, environment: run.environment },
      inputRedacted: containsRedaction(run.input),
    },
  ];
}

function fieldsOf(cases: readonly NewDatasetCase[]): string[] {
  const fields = new Set<string>();
  for (const c of cases) for (const f of comparedFields(c.expected, c.trackedFields)) fields.add(f);
  return [...fields].sort();
}
