/**
 * How the adapters classify what went wrong (DESIGN.md pattern 10), shared so that the HTTP and
 * OpenAI adapters and the circuit breaker agree on what a timeout, a cancellation and an upstream
 * fault are.
 */
import { UpstreamError } from '../domain/model/errors.js';

const EXCERPT_CHARS = 500;

/** The start of an upstream reply, for error details: enough to diagnose, bounded for the run log. */
export function excerpt(text: string): string {
  return text.length <= EXCERPT_CHARS ? text : text.slice(0, EXCERPT_CHARS - 1) + '…';
}

export function readProcessEnv(name: string): string | undefined {
  return process.env[name];
}

/**
 * The caller gave up. Its own deadline passing (an AbortSignal.timeout) is a timeout (504) and
 * counts against the upstream, which was slow; a plain abort (the client went away) is marked
 * `cancelled` so that the breaker does not blame the upstream for it.
 */
export function abortedByCaller(signal: AbortSignal): UpstreamError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new UpstreamError('timeout', 'The call ran out of time before the upstream answered.', { deadline: true });
  }
  return new UpstreamError('failed', 'The call was cancelled before the upstream answered.', { cancelled: true });
}

export function upstreamTimeout(timeoutMs: number): UpstreamError {
  return new UpstreamError('timeout', `The upstream did not answer within ${timeoutMs} ms.`, { timeoutMs });
}

// undici's codes for its connect, headers and body timeouts.
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** A failure below HTTP (refused, reset, timed out) as the contract's upstream error. */
export function classifyTransportError(err: unknown, signal: AbortSignal | undefined, timeoutMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal?.aborted) return abortedByCaller(signal);
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return upstreamTimeout(timeoutMs);
  return new UpstreamError(
    'failed',
    `The upstream could not be reached (${code ?? 'connection error'}).`,
    code === undefined ? undefined : { code },
  );
}

function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node wraps connection failures from fetch-style calls: the code is on the cause.
  return errorCode((err as { cause?: unknown }).cause);
}

/**
 * Whether a failed call says the upstream is unwell, which is what a circuit breaker should count.
 * Not counted: a caller's cancellation, and 4xx replies other than 408/429, which are about the
 * input (one tenant's bad documents must not open the circuit for every tenant).
 */
export function countsAgainstUpstream(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return true;
  if (err.kind === 'circuit_open') return false;
  const details = err.details as { cancelled?: unknown; status?: unknown } | undefined;
  if (details?.cancelled === true) return false;
  const status = details?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status === 408 || status === 429;
  return true;
}
