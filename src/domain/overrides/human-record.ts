/**
 * The record a human accepted as right, kept with the feedback so that reviewed runs can become
 * dataset cases (`expected`). Feedback stores which fields changed (the override rate needs no
 * more); for a dataset it also keeps the human's values of those fields (`corrections`) and the
 * fields the reviewer's record covered (`tracked`). The rest of the record is the AI's output,
 * which the run already stores.
 *
 * PII: corrections pass through the chain's redaction like outputs do; a correction that
 * redaction changed is not kept (its value is unknown afterwards, so the case does not compare
 * that field).
 */
import { WHOLE_OUTPUT_FIELD, type FieldOverride, type OverrideDiff } from './diff-overrides.js';
import { getOwn, isPlainObject, setOwn, type JsonObject } from './json-value.js';

/** What feedback stores beside `overridden` and `fields`. */
export interface HumanCorrections {
  /** Field (or `"$"`) → the human's value, for each changed field that survived redaction. */
  corrections: JsonObject;
  /** The fields the human's `final` record named; null: all fields (the `overrides` form, or a whole output). */
  tracked: string[] | null;
}

/** Redacts a value as a run's output is redacted: the stored value, and per top-level field a hash where redaction changed it. */
export type RedactValue = (value: unknown) => { output: unknown; outputHashes?: Record<string, string> };

export function humanCorrections(
  output: unknown,
  body: { final?: unknown; overrides?: readonly FieldOverride[] },
  diff: OverrideDiff,
  redactValue?: RedactValue,
): HumanCorrections {
  const whole = !isPlainObject(output);
  const values = new Map<string, unknown>();
  let tracked: string[] | null = null;
  if (body.final !== undefined) {
    if (whole) values.set(WHOLE_OUTPUT_FIELD, body.final);
    else {
      const final = body.final as JsonObject;
      tracked = Object.keys(final)
        .filter((f) => final[f] !== undefined)
        .sort();
      for (const f of diff.fields) values.set(f, getOwn(final, f));
    }
  } else {
    const latest = new Map<string, unknown>();
    for (const o of body.overrides ?? []) latest.set(o.field, o.value === undefined ? null : o.value);
    for (const f of diff.fields) values.set(f, latest.get(f));
  }
  const corrections: JsonObject = {};
  for (const [f, v] of values) setOwn(corrections, f, v === undefined ? null : v);
  if (!redactValue || values.size === 0) return { corrections, tracked };
  if (whole) {
    const r = redactValue(corrections[WHOLE_OUTPUT_FIELD]);
    return { corrections: r.outputHashes ? {} : corrections, tracked };
  }
  const r = redactValue(corrections);
  const kept: JsonObject = {};
  for (const f of Object.keys(corrections)) {
    if (r.outputHashes && Object.hasOwn(r.outputHashes, f)) continue;
    setOwn(kept, f, getOwn(corrections, f));
  }
  return { corrections: kept, tracked };
}

/** A reviewed run as a dataset case needs it. */
export interface ReviewedRecord {
  output: unknown;
  /** Fields whose stored output is a redaction placeholder (the run's outputHashes keys). */
  redactedFields: readonly string[];
  fields: readonly string[];
  /** Null for feedback stored before corrections were kept. */
  corrections: JsonObject | null;
  tracked: readonly string[] | null;
}

export interface ExpectedRecord {
  expected: unknown;
  trackedFields: string[] | null;
}

/**
 * The human's final record: the output with the human's changes applied, without the fields
 * whose value is unknown (redacted in storage, AI's or human's). Undefined when nothing of it can
 * be known: a changed field without its value (feedback older than this record), or a whole
 * output that was redacted.
 */
export function expectedRecord(run: ReviewedRecord): ExpectedRecord | undefined {
  const { output, fields, corrections } = run;
  if (fields.length > 0 && corrections === null) return undefined;
  const redacted = new Set(run.redactedFields);
  if (!isPlainObject(output)) {
    if (fields.includes(WHOLE_OUTPUT_FIELD)) {
      return corrections && Object.hasOwn(corrections, WHOLE_OUTPUT_FIELD)
        ? { expected: corrections[WHOLE_OUTPUT_FIELD], trackedFields: null }
        : undefined;
    }
    return redacted.has(WHOLE_OUTPUT_FIELD) ? undefined : { expected: output, trackedFields: null };
  }
  const expected: JsonObject = {};
  for (const f of Object.keys(output)) if (!redacted.has(f)) setOwn(expected, f, output[f]);
  const unknown = new Set<string>();
  for (const f of redacted) unknown.add(f);
  for (const f of fields) {
    if (corrections && Object.hasOwn(corrections, f)) {
      setOwn(expected, f, corrections[f]);
      unknown.delete(f);
    } else {
      delete expected[f];
      unknown.add(f);
    }
  }
  if (run.tracked === null) return { expected, trackedFields: null };
  const trackedFields: string[] = [];
  for (const f of run.tracked) {
    if (unknown.has(f)) continue;
    // A tracked field the AI left out and the human left empty: the human's record says null.
    if (!Object.hasOwn(expected, f)) setOwn(expected, f, null);
    trackedFields.push(f);
  }
  return { expected, trackedFields };
}
