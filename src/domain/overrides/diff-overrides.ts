/**
 * Which top-level output fields a human changed: the numerator of the override rate.
 *
 * Rules (README, "Send feedback from a review UI"):
 * - a field counts when the human's value differs from the AI's by deep JSON equality
 *   (canonical-json.ts: key order irrelevant, array order relevant, 1 and 1.0 equal);
 * - `final`: a field absent from it is unchanged (apps send only the fields they track); `null`
 *   records a cleared value; a field the AI left out and the human filled counts;
 * - `overrides`: `[]` means reviewed and nothing changed; a listed value equal to the AI's is not a
 *   change (the human re-typed it); the last entry for a field wins;
 * - an output that is not a JSON object is the single field `"$"`.
 *
 * A field the AI left out is compared as `null`: the human's `null` there clears nothing, so it is
 * not an override, while any other value fills the field and is one.
 *
 * Redacted runs: when PII redaction changed a field before storage, the run keeps an HMAC of the
 * original value (redaction.ts `redactOutput`); such a field is compared by hashing the human's
 * value, never against the placeholder that was stored.
 */
import { BadRequestError } from '../model/errors.js';
import { canonicalJson, jsonEqual } from './canonical-json.js';
import { getOwn, isPlainObject } from './json-value.js';

/** The field that stands for a whole output which is not a JSON object. */
export const WHOLE_OUTPUT_FIELD = '$';

export interface OverrideDiff {
  overridden: boolean;
  /** Top-level output fields the human changed, sorted by UTF-16 code units. */
  fields: string[];
}

export interface FieldOverride {
  field: string;
  /** Missing reads as null: JSON has no undefined, and a cleared value is sent as null. */
  value?: unknown;
}

/** How to compare against a stored output in which redaction replaced some fields. */
export interface RedactedComparison {
  /** Field (or `"$"`) -> hash of the original value, as returned by `redactOutput`. */
  hashes: Readonly<Record<string, string>>;
  /** Must hash as `redactOutput` did: `fieldHasher(hmac)` builds the matching function. */
  hashValue: (value: unknown) => string;
}

/** The hash of one field value as `redactOutput` records it: `hmac(canonicalJson(value))`. */
export function fieldHasher(hmac: (data: string) => string): (value: unknown) => string {
  return (value) => hmac(canonicalJson(value));
}

/** Diff of the record as the human left it (`{"final": ...}`) against the run's output. */
export function diffFinal(output: unknown, final: unknown, redaction?: RedactedComparison): OverrideDiff {
  const compare = fieldComparer(output, redaction);
  if (!isPlainObject(output)) {
    // The whole output is one field, so `final` is the new whole value, whatever its type.
    return result(compare(WHOLE_OUTPUT_FIELD, final) ? [WHOLE_OUTPUT_FIELD] : []);
  }
  if (!isPlainObject(final)) {
    throw new BadRequestError("`final` must be an object, since the run's output is an object.", { field: 'final' });
  }
  const changed: string[] = [];
  for (const field of Object.keys(final)) {
    const value = final[field];
    // An own key holding undefined cannot come from JSON; treat it as absent, like JSON would.
    if (value === undefined) continue;
    if (compare(field, value)) changed.push(field);
  }
  return result(changed);
}

/** Diff of the list form (`{"overrides": [{field, value}]}`) against the run's output. */
export function diffOverrides(output: unknown, overrides: readonly FieldOverride[], redaction?: RedactedComparison): OverrideDiff {
  const wholeOutput = !isPlainObject(output);
  // A Map, not an object, so a field named `__proto__` is just a key; later entries win.
  const latest = new Map<string, unknown>();
  overrides.forEach((override, index) => {
    if (wholeOutput && override.field !== WHOLE_OUTPUT_FIELD) {
      throw new BadRequestError(`The run's output is not an object, so its only field is "${WHOLE_OUTPUT_FIELD}".`, {
        field: `overrides[${index}].field`,
        value: override.field,
      });
    }
    latest.set(override.field, override.value);
  });
  const compare = fieldComparer(output, redaction);
  const changed: string[] = [];
  for (const [field, value] of latest) {
    if (compare(field, value)) changed.push(field);
  }
  return result(changed);
}

/** `(field, humanValue) => changed?` for one output, with or without redaction hashes. */
function fieldComparer(output: unknown, redaction: RedactedComparison | undefined) {
  const record = isPlainObject(output) ? output : undefined;
  const aiValueOf = (field: string): unknown => {
    const value = record === undefined ? output : getOwn(record, field);
    return value === undefined ? null : value;
  };
  return (field: string, humanValue: unknown): boolean => {
    const human = humanValue === undefined ? null : humanValue;
    const stored = aiValueOf(field);
    if (jsonEqual(human, stored)) {
      // Equal to what is stored: for a redacted field that is the placeholder, which a review tool
      // showing the stored run sends back untouched, so it is not a correction either.
      return false;
    }
    const hashes = redaction?.hashes;
    if (hashes !== undefined && Object.hasOwn(hashes, field)) {
      return redaction!.hashValue(human) !== hashes[field];
    }
    return true;
  };
}

function result(fields: string[]): OverrideDiff {
  fields.sort();
  return { overridden: fields.length > 0, fields };
}
