/**
 * PII redaction before storage, per chain (chains.redaction). Outputs keep a keyed hash of each
 * redacted top-level field so feedback arriving later is still diffed against the AI's value.
 *
 * A run carries personal data beyond its input and output (README "Privacy"), and with
 * `{"mode": "patterns"}` each part is treated by what it is used for:
 * - `metadata`, the upstream's error (its message and the reply excerpt in `details.body`, which
 *   an upstream that echoes its input fills with the input) and the feedback's `reviewer`: free
 *   text, scanned by the chain's patterns like the input;
 * - `externalId` and `unit`: identifiers that are looked up and grouped by, not read, so they are
 *   stored as a keyed hash (`hmac:` and 43 characters): the same id always gives the same hash, so
 *   feedback by external id and the unit's assignment key work as before, by hashing what the
 *   caller sends (`storedExternalId`); the id itself is not stored. The run's `assignmentKey`
 *   (tenant/unit) carries the hashed unit.
 * With `{"mode": "paths"}` the paths apply to the input and output as before; the upstream's reply
 * excerpt is dropped (free text in which no path can be found); identifiers, metadata and the
 * reviewer are kept as sent.
 */
import { createHmac } from 'node:crypto';
import type { Run, RunError } from '../domain/model/run.js';
import { canonicalJson } from '../domain/overrides/canonical-json.js';
import { JsonTooDeepError } from '../domain/overrides/json-value.js';
import { redact, redactOutput, type RedactionConfig } from './redaction.js';

/** What a stored identifier looks like when redaction replaced it by its keyed hash. */
export const HASHED_ID_PREFIX = 'hmac:';
const EXCERPT_DROPPED = '[REDACTED:path_mode]';

const TOO_DEEP = '[REDACTED:too_deep]';

export interface RedactedRun {
  input: unknown;
  output: unknown;
  outputHashes?: Record<string, string>;
}

export class RunRedactor {
  constructor(
    /** The chain's redaction config, or undefined for none. */
    private readonly configFor: (chainId: string) => RedactionConfig | undefined,
    private readonly hmacKey: Buffer,
  ) {}

  redact(chainId: string, input: unknown, output: unknown): RedactedRun {
    const config = this.configFor(chainId);
    if (!config || config.mode === 'off') return { input, output };
    let out: { stored: unknown; hashes: Record<string, string> };
    try {
      out = output === undefined ? { stored: undefined, hashes: {} } : redactOutput(output, config, (s: string) => this.hmac(s));
    } catch (err) {
      // An upstream's output too deep to walk is not the caller's fault: store none of it rather
      // than risk storing PII (feedback on such a run compares against the placeholder).
      if (!(err instanceof JsonTooDeepError)) throw err;
      out = { stored: TOO_DEEP, hashes: {} };
    }
    const hashes = Object.keys(out.hashes).length > 0 ? out.hashes : undefined;
    return { input: redact(input, config), output: out.stored, outputHashes: hashes };
  }

  /**
   * The run as it is stored: input and output redacted as `redact` does, and the other parts that
   * can carry personal data (see the header). `run` is not changed.
   */
  redactRun(run: Run): Run {
    const config = this.configFor(run.chainId);
    if (!config || config.mode === 'off') return run;
    const io = this.redact(run.chainId, run.input, run.output ?? undefined);
    const stored: Run = { ...run, input: io.input, output: run.output === null ? null : io.output, outputHashes: io.outputHashes ?? null };
    if (run.error) stored.error = this.redactError(run.error, config);
    if (config.mode !== 'patterns') return stored;
    if (run.metadata) stored.metadata = scanned(run.metadata, config) as Record<string, unknown>;
    if (run.externalId !== null) stored.externalId = this.hashId(run.externalId);
    if (run.unit !== null) {
      stored.unit = this.hashId(run.unit);
      // The unit's assignment key is tenant/unit: the unit part is the hash too.
      if (run.assignmentKey === `${run.tenantId}/${run.unit}`) stored.assignmentKey = `${run.tenantId}/${stored.unit}`;
    }
    return stored;
  }

  /**
   * The externalId as runs of `chainId` store it: its keyed hash under pattern redaction, else
   * itself. Lookups by external id go through this, so they find what was stored.
   */
  storedExternalId(chainId: string, externalId: string): string {
    return this.configFor(chainId)?.mode === 'patterns' ? this.hashId(externalId) : externalId;
  }

  /** Every form an external id may be stored in, whichever chain's setting applied (a list without a chain). */
  storedExternalIdForms(externalId: string): string[] {
    return externalId.startsWith(HASHED_ID_PREFIX) ? [externalId] : [externalId, this.hashId(externalId)];
  }

  /** The reviewer's name as feedback on `chainId` stores it. */
  reviewer(chainId: string, reviewer: string | undefined): string | null {
    if (reviewer === undefined) return null;
    const config = this.configFor(chainId);
    return config?.mode === 'patterns' ? (scanned(reviewer, config) as string) : reviewer;
  }

  /** The hash a redacted output field was stored under, for the human's value. */
  hashField(value: unknown): string {
    return this.hmac(canonicalJson(value));
  }

  private redactError(error: RunError, config: RedactionConfig): RunError {
    if (config.mode === 'patterns') return scanned(error, config) as RunError;
    // Paths mode: no path can be found in free text, and the excerpt may echo the input.
    const details = error.details;
    if (details === null || typeof details !== 'object' || !('body' in details)) return error;
    return { ...error, details: { ...(details as Record<string, unknown>), body: EXCERPT_DROPPED } };
  }

  private hashId(id: string): string {
    // A label keeps these hashes apart from the output fields' hashes under the same key.
    return HASHED_ID_PREFIX + this.hmac(`id\u0000${id}`);
  }

  private hmac(s: string): string {
    return createHmac('sha256', this.hmacKey).update(s).digest('base64url');
  }
}

/** `value` with the patterns of a `patterns` config replaced; too deep to walk: a placeholder. */
function scanned(value: unknown, config: RedactionConfig & { mode: 'patterns' }): unknown {
  try {
    return redact(value, config);
  } catch (err) {
    if (!(err instanceof JsonTooDeepError)) throw err;
    return TOO_DEEP;
  }
}
