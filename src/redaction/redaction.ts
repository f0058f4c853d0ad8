/**
 * PII redaction of a run's input and output before they are stored, configured per chain:
 *   {"mode": "off"}
 *   {"mode": "paths", "paths": ["customer.email", "$.iban", "items[*].name"]}   (redaction-paths.ts)
 *   {"mode": "patterns", "patterns"?: ["email", "phone", "iban", "card"]}       (pii-patterns.ts)
 *
 * Redacting an output would make later override detection impossible (the human's corrected
 * e-mail cannot be compared with "[REDACTED:email]"), so `redactOutput` also returns, for each
 * top-level field that redaction changed, an HMAC of the original value. An HMAC keyed by a server
 * secret rather than a plain hash, because low-entropy values (a phone number, a card) would
 * otherwise be recovered by hashing every candidate.
 */
import { z } from 'zod';
import { canonicalJson, jsonEqual } from '../domain/overrides/canonical-json.js';
import { WHOLE_OUTPUT_FIELD } from '../domain/overrides/diff-overrides.js';
import { assertDepth, getOwn, isPlainObject, setOwn } from '../domain/overrides/json-value.js';
import { PII_KINDS, placeholder, redactText, type PiiKind } from './pii-patterns.js';
import { applyPath, cloneObject, mapArray, mustParsePath, parsePath } from './redaction-paths.js';

export { PII_KINDS, type PiiKind } from './pii-patterns.js';

/** What `{"mode": "paths"}` puts in place of a selected value. */
export const PATH_PLACEHOLDER = placeholder('path');

const redactionPathSchema = z
  .string()
  .min(1)
  .max(512)
  .superRefine((path, ctx) => {
    const parsed = parsePath(path);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `invalid path: ${parsed.error}` });
  });

export const redactionConfigSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('off') }),
  z.strictObject({ mode: z.literal('paths'), paths: z.array(redactionPathSchema).min(1).max(200) }),
  z.strictObject({
    mode: z.literal('patterns'),
    // Omitted: all four kinds. Kept as given (no schema default) so a stored config reads back
    // the way it was written.
    patterns: z.array(z.enum(PII_KINDS)).min(1).optional(),
  }),
]);

export type RedactionConfig = z.infer<typeof redactionConfigSchema>;

/**
 * `value` with personal data replaced by `"[REDACTED:<kind>]"` (`"[REDACTED:path]"` for path
 * mode). Never mutates `value`; the result shares the parts redaction did not touch, and is
 * `value` itself when nothing matched. Only string values are scanned in pattern mode: object
 * keys and numbers are kept as they are.
 *
 * @throws JsonTooDeepError (400) for JSON nested deeper than MAX_JSON_DEPTH.
 */
export function redact(value: unknown, config: RedactionConfig): unknown {
  switch (config.mode) {
    case 'off':
      return value;
    case 'paths': {
      let current = value;
      for (const path of config.paths) current = applyPath(current, mustParsePath(path), redactSelected);
      return current;
    }
    case 'patterns':
      return scan(value, new Set<PiiKind>(config.patterns ?? PII_KINDS), 0);
  }
}

/** A selected null carries no personal data; keeping it keeps "the AI returned nothing" visible. */
function redactSelected(selected: unknown): unknown {
  return selected === null ? null : PATH_PLACEHOLDER;
}

function scan(value: unknown, kinds: ReadonlySet<PiiKind>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value, kinds);
  if (Array.isArray(value)) {
    assertDepth(depth + 1);
    return mapArray(value, (item) => scan(item, kinds, depth + 1));
  }
  if (isPlainObject(value)) {
    assertDepth(depth + 1);
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const before = value[key];
      const after = scan(before, kinds, depth + 1);
      if (after !== before) {
        copy ??= cloneObject(value);
        setOwn(copy, key, after);
      }
    }
    return copy ?? value;
  }
  return value;
}

export interface RedactedOutput {
  /** What to store in place of the output. */
  stored: unknown;
  /**
   * Top-level field (or "$" for an output that is not an object) -> hmac(canonicalJson(original
   * value)), for each field redaction changed; what diffFinal/diffOverrides need to count
   * overrides on a redacted run. Empty when nothing was redacted.
   */
  hashes: Record<string, string>;
}

/**
 * Redacts an output and keeps, per changed top-level field, the keyed hash of its original value.
 * `hmac` is injected (the gateway uses HMAC-SHA-256 with a server secret); it must be the same
 * function that `fieldHasher` wraps when the run's feedback is diffed.
 */
export function redactOutput(output: unknown, config: RedactionConfig, hmac: (data: string) => string): RedactedOutput {
  const stored = redact(output, config);
  const hashes: Record<string, string> = {};
  if (stored === output) return { stored, hashes };
  if (isPlainObject(output) && isPlainObject(stored)) {
    for (const field of Object.keys(output)) {
      const before = output[field];
      const after = getOwn(stored, field);
      // Identity first (copy-on-write keeps untouched fields), then value: a replacement equal to
      // the original changes nothing a reviewer could compare against.
      if (after !== before && !jsonEqual(after, before)) setOwn(hashes, field, hmac(canonicalJson(before)));
    }
  } else if (!jsonEqual(stored, output)) {
    setOwn(hashes, WHOLE_OUTPUT_FIELD, hmac(canonicalJson(output)));
  }
  return { stored, hashes };
}
