/**
 * Shadow calls (README "Shadow runs"): the candidate run on a call the control answered, never
 * answered with. Two steps, so the caller's answer cannot depend on the shadow:
 *
 * - `plan` (synchronous, on the request path, before the control run is recorded): is this call
 *   shadowed (shadow-selection.ts), and is there room (shadow-budget.ts)? It returns the shadow
 *   run's id, which the control run records as `shadowRunId`, or nothing; a call over a limit is
 *   skipped and counted. No I/O, no await: it cannot delay the answer.
 * - `start` (after the answer is on its way): the call is handed to the shadow caller on a later
 *   turn of the event loop. The caller has adapters of its own (separate connection pools and
 *   circuit breakers, so a failing or hanging candidate in the shadow never trips the breaker or
 *   fills the pool that serves customers) and, in the gateway, its own worker thread (so the
 *   upstream call's work and garbage stay off this event loop and heap); the call runs under its
 *   own deadline. Whatever happens is recorded here as the shadow run's result (redacted,
 *   counted, written: those need this thread's configuration and stores); nothing is thrown to
 *   anyone.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AdapterDefinition } from '../adapters/adapter-definition.js';
import type { ShadowResult } from '../domain/ports/shadow-repository.js';
import { DomainError } from '../domain/model/errors.js';
import { selectShadow, type ShadowCall, type ShadowRollout } from '../domain/routing/shadow-selection.js';
import type { ShadowBudget, SkipReason } from './shadow-budget.js';
import type { ShadowCaller } from './shadow-caller.js';

/** A rollout as the dispatcher needs it. */
export type ShadowedRollout = ShadowRollout & { chainId: string; candidate: string };

export interface ShadowTicket {
  id: string;
  rollout: ShadowedRollout;
  release: () => void;
}

/** The control run a shadow call belongs to. */
export interface ControlRunRef {
  id: string;
  tenantId: string;
  environment: string;
  stage: number | null;
  createdAt: Date;
}

export interface ShadowMetrics {
  shadowCall(
    chain: string,
    version: string,
    outcome: 'ok' | 'error',
    usage?: { promptTokens?: number | null; completionTokens?: number | null },
  ): void;
  shadowSkipped(chain: string, version: string, reason: SkipReason): void;
}

export interface ShadowDispatcherDeps {
  /** The chain's rollout that may mirror calls (running, paused or gated), from this replica's cache. */
  activeFor: (chainId: string) => ShadowedRollout | undefined;
  /** Runs the candidate's calls through the shadow's own adapters (not the ones that serve customers). */
  caller: Pick<ShadowCaller, 'call'>;
  /** The version's adapter definition, or undefined when it is gone. */
  versionDef: (chain: string, version: string) => AdapterDefinition | undefined;
  budget: ShadowBudget;
  writer: { recordResult(result: ShadowResult): void; countSkip(rolloutId: string, reason: SkipReason): void };
  /** Output redaction as for runs (RunRedactor.redact's output part). */
  redact: (chain: string, output: unknown) => { output: unknown; outputHashes?: Record<string, string> };
  metrics?: ShadowMetrics;
  log: Logger;
  now: () => Date;
  /** A deadline for every shadow call on top of the version's own timeout; default 60 s. */
  timeoutMs?: number;
}

export class ShadowDispatcher {
  readonly #inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: ShadowDispatcherDeps) {}

  /** Shadow calls started and not finished on this replica. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The synchronous decision for one call the chain's rollout served with the control (see the file comment). */
  plan(chainId: string, call: ShadowCall): ShadowTicket | undefined {
    const rollout = this.deps.activeFor(chainId);
    if (rollout?.spec.shadow === undefined) return undefined;
    if (selectShadow(rollout, call) === undefined) return undefined;
    const shadow = rollout.spec.shadow;
    const admission = this.deps.budget.tryAcquire(rollout.id, shadow);
    if (!admission.ok) {
      this.deps.writer.countSkip(rollout.id, admission.reason);
      this.deps.metrics?.shadowSkipped(rollout.chainId, rollout.candidate, admission.reason);
      return undefined;
    }
    return { id: randomUUID(), rollout, release: admission.release };
  }

  /** Runs the planned call after the current turn of the event loop; never throws. */
  start(ticket: ShadowTicket, control: ControlRunRef, input: unknown): void {
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.#run(ticket, control, input)
          .catch((err: unknown) => this.deps.log.error({ err, shadowRunId: ticket.id }, 'shadow call could not be recorded'))
          .finally(() => {
            ticket.release();
            resolve();
          });
      });
    });
    this.#inFlight.add(done);
    void done.then(() => this.#inFlight.delete(done));
  }

  /** Drops a planned call that will not start (the control run could not be recorded). */
  abandon(ticket: ShadowTicket): void {
    ticket.release();
  }

  /** Waits for the shadow calls in flight (graceful shutdown; tests). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #run(ticket: ShadowTicket, control: ControlRunRef, input: unknown): Promise<void> {
    const { rollout } = ticket;
    const chain = rollout.chainId;
    const version = rollout.candidate;
    const started = performance.now();
    let output: unknown;
    let outputHashes: Record<string, string> | undefined;
    let error: ShadowResult['error'] = null;
    let usage: { promptTokens?: number; completionTokens?: number } | undefined;
    try {
      const def = this.deps.versionDef(chain, version);
      if (def === undefined) throw new DomainError('upstream_failed', 502, `Version '${version}' of chain '${chain}' is not registered.`);
      const result = await this.deps.caller.call(chain, version, def, input, this.deps.timeoutMs ?? 60_000);
      const redacted = this.deps.redact(chain, result.output);
      output = redacted.output;
      outputHashes = redacted.outputHashes;
      usage = result.usage;
    } catch (err) {
      const e = err instanceof DomainError ? err : undefined;
      error = {
        code: e?.code ?? 'upstream_failed',
        message: e?.message ?? `The shadow call failed: ${(err as Error)?.message ?? String(err)}`,
      };
      if (e?.details !== undefined) error.details = e.details;
    }
    const latencyMs = performance.now() - started;
    this.deps.metrics?.shadowCall(chain, version, error ? 'error' : 'ok', usage);
    this.deps.writer.recordResult({
      id: ticket.id,
      shadowOf: control.id,
      rolloutId: rollout.id,
      chainId: chain,
      version,
      tenantId: control.tenantId,
      environment: control.environment,
      stage: control.stage,
      createdAt: control.createdAt,
      finishedAt: this.deps.now(),
      output: error ? null : (output ?? null),
      outputHashes: outputHashes ?? null,
      error,
      latencyMs,
      promptTokens: usage?.promptTokens ?? null,
      completionTokens: usage?.completionTokens ?? null,
    });
  }
}
