/**
 * The request path: pick the arm, run the version, record the run, answer.
 * A run that was answered is a run that is stored: the run goes to the writer (and its journal)
 * before the reply, whether the upstream succeeded or not.
 */
import { performance } from 'node:perf_hooks';
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import type { RunRedactor } from '../../redaction/run-redactor.js';
import { BadRequestError, DatabaseUnavailableError, DomainError, UpstreamError } from '../model/errors.js';
import { newRunId } from '../model/run-ids.js';
import type { Run, Variant } from '../model/run.js';
import type { DomainEvents } from '../model/events.js';
import type { ChainAdapter, ChainResult } from '../ports/chain-adapter.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunRepository } from '../ports/run-repository.js';
import type { ShadowCalls } from '../ports/shadow-calls.js';
import type { Assignment, Router } from '../routing/routing.js';
import type { Catalog } from './catalog.js';
import { IdempotencyCache } from './idempotency-cache.js';

export interface InvokeRequest {
  chain: string;
  tenant: string;
  environment: string;
  input: unknown;
  unit?: string;
  externalId?: string;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
}

export interface InvokeResult {
  runId: string;
  chain: string;
  version: string;
  variant: Variant;
  output?: unknown;
  latencyMs: number;
  upstreamMs: number;
  /** Set when the call failed (the caller answers 502/504 with the run id). */
  error?: UpstreamError;
  /** True when this answer is a replay of an earlier call with the same Idempotency-Key. */
  replayed?: boolean;
  /**
   * Set when the candidate failed and the control answered (fallbackToControl): the caller is
   * told (`fallback: true`), the route logs it, and the run counts as a candidate error and a
   * fallback. `candidateError` is absent on an idempotent replay (the run keeps only the flag).
   */
  fallback?: { candidate: string; candidateError?: UpstreamError };
}

export interface AdapterSource {
  get(chain: string, version: string, def: AdapterDefinition): ChainAdapter;
}

export interface InvokeDeps {
  catalog: Pick<Catalog, 'requireChain' | 'requireTenant' | 'requireEnvironment' | 'requireVersion'>;
  router: Router;
  adapters: AdapterSource;
  writer: Pick<RunRecorder, 'recordRun' | 'assertCapacity'>;
  redactor: RunRedactor;
  /** Stored runs by idempotency key (retries the in-memory cache no longer knows). */
  runs: Pick<RunRepository, 'byIdempotencyKey'>;
  /** RunFinished for every call that ran (metrics). */
  events: EventPublisher<Pick<DomainEvents, 'RunFinished'>>;
  /** Mirrors control-served calls to the candidate (README "Shadow runs"). */
  shadow?: ShadowCalls;
  now: () => Date;
}

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The answers kept for retries (README "Outages"): about 7 MB of heap at the bound for outputs of 800 characters. */
const IDEMPOTENCY_CACHE = { maxEntries: 10_000, maxChars: 4 * 1024 * 1024, minAgeMs: 10_000 };

export class InvokeService {
  private readonly idempotent: IdempotencyCache;

  constructor(private readonly deps: InvokeDeps) {
    this.idempotent = new IdempotencyCache({ ttlMs: IDEMPOTENCY_TTL_MS, ...IDEMPOTENCY_CACHE }, () => deps.now().getTime());
  }

  /**
   * Runs the call and records it. A 503 before anything else when no more runs can be kept (spool
   * full): no call is made whose run could not be stored, and no replay is answered meanwhile.
   */
  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    this.deps.writer.assertCapacity();
    if (req.idempotencyKey === undefined) return this.run(req);
    // Scoped per tenant and chain: the same key sent to another chain is another call.
    const key = `${req.tenant}\u0000${req.chain}\u0000${req.idempotencyKey}`;
    const cached = this.idempotent.get(key);
    if (cached) return { ...(await cached), replayed: true };
    const result = this.replayStored(req).then((stored) => stored ?? this.run(req));
    this.idempotent.start(key, result);
    return result;
  }

  /** Fails before any upstream call for what would fail any call of a batch: an unknown chain, tenant or environment. */
  assertCallable(chain: string, tenants: Iterable<string>, environments: Iterable<string> = []): void {
    const c = this.deps.catalog.requireChain(chain);
    for (const tenant of tenants) this.deps.catalog.requireTenant(tenant);
    for (const environment of environments) this.deps.catalog.requireEnvironment(c, environment);
  }

  private async replayStored(req: InvokeRequest): Promise<InvokeResult | undefined> {
    let run;
    try {
      run = await this.deps.runs.byIdempotencyKey(req.tenant, req.chain, req.idempotencyKey!);
    } catch (err) {
      // With the database away, a key this replica has not answered in the last 24 hours is taken
      // as new: invokes keep working from the spool (README "Outages"). Should the key have a
      // stored run after all, the runs' unique index keeps that one and skips the new run.
      if (err instanceof DatabaseUnavailableError) return undefined;
      throw err;
    }
    if (!run || this.deps.now().getTime() - run.createdAt.getTime() >= IDEMPOTENCY_TTL_MS) return undefined;
    const error = run.error;
    return {
      runId: run.id,
      chain: run.chainId,
      version: run.version,
      variant: run.variant,
      output: run.output ?? null,
      latencyMs: run.latencyMs,
      upstreamMs: run.upstreamMs ?? 0,
      error:
        error && !run.fallback
          ? new UpstreamError(error.code === 'upstream_timeout' ? 'timeout' : 'failed', error.message ?? 'upstream failed')
          : undefined,
      ...(run.fallback ? { fallback: { candidate: run.version } } : {}),
      replayed: true,
    };
  }

  /** Forgets the tenant's cached answers, finished or in flight (erasure: they hold its outputs). */
  forgetTenant(tenantId: string): void {
    this.idempotent.forgetPrefix(`${tenantId}\u0000`);
  }

  private async run(req: InvokeRequest): Promise<InvokeResult> {
    const started = performance.now();
    const { catalog } = this.deps;
    const chain = catalog.requireChain(req.chain);
    catalog.requireTenant(req.tenant);
    catalog.requireEnvironment(chain, req.environment);
    if (chain.currentVersion === null) throw new BadRequestError(`Chain '${req.chain}' has no versions yet.`, { field: 'chain' });
    const createdAt = this.deps.now();
    const runId = newRunId(createdAt.getTime());
    const assignment = this.deps.router.assign(chain, { tenant: req.tenant, environment: req.environment, unit: req.unit, runId });

    let answeredBy = assignment.version;
    let result: ChainResult | undefined;
    let error: UpstreamError | undefined;
    let fallback = false;
    let upstreamMs: number;
    try {
      result = await this.call(req.chain, assignment.version, req.input);
      upstreamMs = result.upstreamMs;
    } catch (err) {
      error = asUpstreamError(err);
      upstreamMs = (err as { upstreamMs?: number }).upstreamMs ?? performance.now() - started;
      if (assignment.fallbackVersion !== undefined) {
        // fallbackToControl: the caller still gets an answer; the candidate's error stays in its arm.
        try {
          result = await this.call(req.chain, assignment.fallbackVersion, req.input);
          upstreamMs += result.upstreamMs;
          answeredBy = assignment.fallbackVersion;
          fallback = true;
        } catch {
          // Both failed: the caller gets the candidate's error.
        }
      }
    }

    const latencyMs = performance.now() - started;
    const run = this.toRun(req, runId, createdAt, assignment, result, error, fallback, latencyMs, upstreamMs);
    // Only an answered call can be reviewed, so only an answered call is worth a shadow.
    const shadow = result
      ? this.deps.shadow?.plan(req.chain, { tenant: req.tenant, environment: req.environment, unit: req.unit, runId, assignment })
      : undefined;
    if (shadow) run.shadowRunId = shadow.id;
    try {
      // The reply waits for the journal's write (group commit, src/runtime/spool/spool.ts).
      const written = this.deps.writer.recordRun(run);
      if (written) await written;
    } catch (err) {
      if (shadow) this.deps.shadow!.abandon(shadow);
      throw err;
    }
    if (shadow) this.deps.shadow!.start(shadow, run, req.input);
    this.deps.events.publish('RunFinished', { run });
    return {
      runId,
      chain: req.chain,
      version: answeredBy,
      variant: assignment.variant,
      output: result?.output,
      latencyMs,
      upstreamMs,
      error: result ? undefined : error,
      ...(fallback ? { fallback: { candidate: assignment.version, candidateError: error } } : {}),
    };
  }

  private call(chainId: string, version: string, input: unknown): Promise<ChainResult> {
    const def = this.deps.catalog.requireVersion(chainId, version);
    return this.deps.adapters.get(chainId, version, def.adapter).invoke(input);
  }

  private toRun(
    req: InvokeRequest,
    runId: string,
    createdAt: Date,
    a: Assignment,
    result: ChainResult | undefined,
    error: UpstreamError | undefined,
    fallback: boolean,
    latencyMs: number,
    upstreamMs: number,
  ): Run {
    // Redacted as the chain says before it goes anywhere: input, output, error, ids, metadata.
    return this.deps.redactor.redactRun({
      id: runId,
      chainId: req.chain,
      version: a.version,
      variant: a.variant,
      rolloutId: a.rolloutId ?? null,
      stage: a.stage ?? null,
      assignmentKey: a.assignmentKey ?? null,
      tenantId: req.tenant,
      environment: req.environment,
      unit: req.unit ?? null,
      externalId: req.externalId ?? null,
      metadata: req.metadata ?? null,
      input: req.input,
      output: result ? result.output : null,
      outputHashes: null,
      error: error ? { code: error.code, message: error.message, details: error.details ?? null } : null,
      fallback,
      latencyMs,
      upstreamMs,
      promptTokens: result?.usage?.promptTokens ?? null,
      completionTokens: result?.usage?.completionTokens ?? null,
      idempotencyKey: req.idempotencyKey ?? null,
      createdAt,
    });
  }
}

function asUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof DomainError) return new UpstreamError('failed', err.message);
  return new UpstreamError('failed', `The chain's upstream failed: ${(err as Error)?.message ?? String(err)}`);
}
