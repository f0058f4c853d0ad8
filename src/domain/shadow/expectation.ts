/**
 * The human's record of a reviewed control run, as the candidate's shadow output is scored
 * against it (README "Shadow runs"): the control's output with the human's changes applied, on the
 * fields the feedback covers.
 *
 * Which fields: with `{"final": …}` the fields present in `final` (an app sends the fields it
 * tracks, and the control is only ever counted as overridden on those); with `{"overrides": […]}`
 * every field of the control's output plus those the human filled (`[]` vouches for the whole
 * output). The candidate is judged on exactly the fields the control was judged on, or the pair
 * would not be a like-for-like comparison.
 *
 * Storage: a value the human left as shown is kept as the control stored it, with the control's
 * redaction hash when it had one; a value the human typed is redacted like an output (its hash
 * kept), so no personal data the chain's redaction removes is stored here either.
 */
import { jsonEqual } from '../overrides/canonical-json.js';
import { WHOLE_OUTPUT_FIELD, type FieldOverride } from '../overrides/diff-overrides.js';
import { getOwn, isPlainObject, setOwn } from '../overrides/json-value.js';

/** The feedback body, in either of its forms (`overrides` when given, else `final`). */
export interface FeedbackForm {
  final?: unknown;
  overrides?: readonly FieldOverride[];
}

export interface Expectation {
  /** The output was not a JSON object: the one field is "$" and it holds the whole value. */
  whole: boolean;
  /** Field -> the human's value as stored (redacted where the chain redacts). */
  fields: Record<string, unknown>;
  /** Field -> keyed hash of the original value, for the fields whose stored value is redacted. */
  hashes: Record<string, string>;
  /**
   * The fields the report counts by name (overrides/counted-fields.ts `nameableFields`); the
   * others count under `$other` on both sides. Absent in records made before the limit: all.
   */
  named?: string[];
}

/** Redacts an output-shaped value as runs are redacted (RunRedactor.redact's output part). */
export type OutputRedaction = (output: unknown) => { output: unknown; outputHashes?: Record<string, string> };

export interface StoredOutput {
  output: unknown;
  outputHashes?: Record<string, string> | null;
}

/**
 * The human's record of `control` after feedback `body`. Call it after the feedback was accepted
 * (its diff succeeded), so the body's form fits the output.
 */
export function buildExpectation(control: StoredOutput, body: FeedbackForm, redact: OutputRedaction): Expectation {
  const stored = control.output;
  const controlHashes = control.outputHashes ?? {};
  const whole = !isPlainObject(stored);
  const storedValue = (field: string): unknown => {
    const v = whole ? stored : getOwn(stored, field);
    return v === undefined ? null : v;
  };
  const kept = new Map<string, unknown>();
  const typed = new Map<string, unknown>();
  const human = (field: string, value: unknown): void => {
    const v = value === undefined ? null : value;
    // Left as shown (the AI's value, or the placeholder a review tool sent back): the control's.
    if (jsonEqual(v, storedValue(field))) {
      typed.delete(field);
      kept.set(field, storedValue(field));
    } else {
      kept.delete(field);
      typed.set(field, v);
    }
  };

  const overrides = body.overrides;
  if (overrides === undefined) {
    if (whole) human(WHOLE_OUTPUT_FIELD, body.final);
    else if (isPlainObject(body.final)) {
      for (const field of Object.keys(body.final)) if (body.final[field] !== undefined) human(field, body.final[field]);
    }
  } else {
    if (whole) kept.set(WHOLE_OUTPUT_FIELD, stored);
    else for (const field of Object.keys(stored)) kept.set(field, storedValue(field));
    for (const o of overrides) if (!whole || o.field === WHOLE_OUTPUT_FIELD) human(o.field, o.value);
  }

  const fields: Record<string, unknown> = {};
  const hashes: Record<string, string> = {};
  for (const [field, value] of kept) {
    setOwn(fields, field, value);
    if (Object.hasOwn(controlHashes, field)) setOwn(hashes, field, controlHashes[field]!);
  }
  if (typed.size > 0) {
    if (whole) {
      const r = redact(typed.get(WHOLE_OUTPUT_FIELD));
      setOwn(fields, WHOLE_OUTPUT_FIELD, r.output);
      const h = r.outputHashes?.[WHOLE_OUTPUT_FIELD];
      if (h !== undefined) setOwn(hashes, WHOLE_OUTPUT_FIELD, h);
    } else {
      const record: Record<string, unknown> = {};
      for (const [field, value] of typed) setOwn(record, field, value);
      const r = redact(record);
      const out = isPlainObject(r.output) ? r.output : {};
      for (const field of typed.keys()) {
        setOwn(fields, field, getOwn(out, field) ?? null);
        const h = r.outputHashes !== undefined && Object.hasOwn(r.outputHashes, field) ? r.outputHashes[field] : undefined;
        if (h !== undefined) setOwn(hashes, field, h);
      }
    }
  }
  return { whole, fields, hashes };
}
