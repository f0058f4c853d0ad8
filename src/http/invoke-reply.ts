/**
 * What the REST invoke route and the LangServe routes answer alike: the Idempotency-Key header,
 * Server-Timing, the replay header, and a failed call's 502/504 body with its run id.
 */
import type { FastifyReply } from 'fastify';
import type { Principal } from '../domain/auth/principal.js';
import { BadRequestError } from '../domain/model/errors.js';
import type { InvokeResult } from '../domain/services/invoke-service.js';
import { IDEMPOTENCY_KEY } from './schemas/runs.js';
import { upstreamErrorView, type UpstreamErrorView } from './routes/upstream-error-view.js';

/** The Idempotency-Key header, checked; undefined when absent. */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError('Idempotency-Key must be 1 to 255 visible ASCII characters.', { field: 'headers.idempotency-key' });
  }
  return key;
}

/**
 * The key of one input of a batch sent with `key`. A space joins them: a key a client sends is
 * visible ASCII only, so no single call's key can equal a batch item's (with `:` it could).
 */
export function batchItemKey(key: string, index: number): string {
  return `${key} ${index}`;
}

export function serverTiming(r: Pick<InvokeResult, 'latencyMs' | 'upstreamMs'>): string {
  const gateway = Math.max(0, r.latencyMs - r.upstreamMs);
  return `gateway;dur=${gateway.toFixed(3)}, upstream;dur=${r.upstreamMs.toFixed(3)}`;
}

/** Which answered runs are held in memory only (the spool could not be written). */
export interface Journaled {
  notJournaled(runId: string): boolean;
}

/**
 * The run was answered while the spool could not be written (a full or failing disk): it is held
 * in memory until the database has it, and a crash before then would lose it. Said in a header
 * (README "Production setup", a full or failing disk), since the answer itself is good.
 */
export function warnIfNotJournaled(reply: FastifyReply, journal: Journaled, runId: string): void {
  if (journal.notJournaled(runId)) {
    reply.header(
      'x-chain-canary-warning',
      'run_not_journaled; the run is held in memory until the database takes it (the spool cannot be written)',
    );
  }
}

/**
 * A candidate call answered by the control (fallbackToControl) is a candidate failure the caller
 * did not see as one: it is logged at warn, once per call (not for an idempotent replay), with
 * what failed, so "every candidate call silently falls over" shows in the log as well as in
 * `chain_canary_fallbacks_total` and the comparison's `fallbacks`.
 */
function logFallback(reply: FastifyReply, result: InvokeResult): void {
  if (result.replayed || !result.fallback) return;
  const e = result.fallback.candidateError;
  // The code and the upstream's HTTP status only: the message and reply excerpt (which a provider
  // may fill with key fragments or echoed input) stay in the run, for admins.
  const status = (e?.details as { status?: unknown } | undefined)?.status;
  const why = e ? ` (${e.code}${typeof status === 'number' ? `, HTTP ${status}` : ''})` : '';
  reply.request.log.warn(
    {
      runId: result.runId,
      chain: result.chain,
      candidate: result.fallback.candidate,
      answeredBy: result.version,
      candidateError: e?.code,
      ...(typeof status === 'number' ? { upstreamStatus: status } : {}),
    },
    `candidate ${result.fallback.candidate} of chain ${result.chain} failed${why}; the control ${result.version} answered (fallbackToControl)`,
  );
}

export interface FailedCall {
  status: 502 | 504;
  body: { runId: string; error: UpstreamErrorView };
}

/**
 * Sets Server-Timing and the replay header of one call's answer; for a failed call, returns the
 * 502/504 status and body with its run id and the error as `principal` may see it
 * (upstream-error-view.ts). The gateway's share is timed from Fastify's clock
 * (request received, routed, authenticated, parsed and validated, then the call), not only the
 * service's: the bench found the service's own figure (~0.05 ms) hides most of what a caller
 * waits for. A replay keeps the stored figures.
 */
export function answerHeaders(
  reply: FastifyReply,
  result: InvokeResult,
  principal: Principal,
  journal?: Journaled,
): FailedCall | undefined {
  reply.header('server-timing', serverTiming(result.replayed ? result : { latencyMs: reply.elapsedTime, upstreamMs: result.upstreamMs }));
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  if (result.fallback) logFallback(reply, result);
  if (journal) warnIfNotJournaled(reply, journal, result.runId);
  const e = result.error;
  return e ? { status: e.statusCode as 502 | 504, body: { runId: result.runId, error: upstreamErrorView(e, principal) } } : undefined;
}
