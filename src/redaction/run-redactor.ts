/**
 * PII redaction before storage, per chain (chains.redaction). Outputs keep a keyed hash of each
 * redacted top-level field so feedback arriving later is still diffed against the AI's value.
 */
import { createHmac } from 'node:crypto';
import { canonicalJson } from '../domain/overrides/canonical-json.js';
import { JsonTooDeepError } from '../domain/overrides/json-value.js';
import { redact, redactOutput, type RedactionConfig } from './redaction.js';

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

  /** The hash a redacted output field was stored under, for the human's value. */
  hashField(value: unknown): string {
    return this.hmac(canonicalJson(value));
  }

  private hmac(s: string): string {
    return createHmac('sha256', this.hmacKey).update(s).digest('base64url');
  }
}
