/**
 * What a caller is told about a failed upstream call (README "Security"). The upstream's and the
 * provider's own words (the reply excerpt in `details.body`, a provider message such as
 * "Incorrect API key provided: sk-…", a gateway setting's name, the upstream's address) are for
 * admins: they describe the operator's systems and may carry their secrets or another tenant's
 * data echoed back. A tenant key gets the code, a sentence that does not quote the upstream, and
 * the details that are about the call itself (the upstream's HTTP status, the timeout).
 * The run keeps everything; an admin reads it at GET /v1/runs/{runId}.
 */
import type { Principal } from '../../domain/auth/principal.js';

export interface UpstreamErrorView {
  code: string;
  message: string;
  details?: unknown;
}

const TENANT_MESSAGES: Record<string, string> = {
  upstream_failed: "The chain's upstream failed. The run is recorded; an admin can see why in the run.",
  upstream_timeout: "The chain's upstream did not answer in time. The run is recorded.",
  upstream_unavailable: "The chain's upstream is failing, so calls to it are paused for a moment. The run is recorded.",
};

/** The details a tenant may see: numbers about the call, never text from the upstream. */
function tenantDetails(details: unknown): Record<string, number | boolean> | undefined {
  if (details === null || typeof details !== 'object') return undefined;
  const d = details as Record<string, unknown>;
  const out: Record<string, number | boolean> = {};
  if (typeof d.status === 'number') out.status = d.status;
  if (typeof d.timeoutMs === 'number') out.timeoutMs = d.timeoutMs;
  if (d.cancelled === true) out.cancelled = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The error as `principal` may see it. */
export function upstreamErrorView(error: UpstreamErrorView, principal: Principal): UpstreamErrorView {
  if (principal.kind === 'admin') return error;
  const status = tenantDetails(error.details)?.status;
  const base = TENANT_MESSAGES[error.code] ?? "The chain's upstream failed. The run is recorded.";
  const message = typeof status === 'number' ? base.replace(/\.( |$)/, ` (it answered HTTP ${status}).$1`) : base;
  const details = tenantDetails(error.details);
  return details === undefined ? { code: error.code, message } : { code: error.code, message, details };
}
