/**
 * Would a human have overridden this output? A replayed output is scored against a dataset
 * case's `expected` record by the feedback rules (diff-overrides.ts `diffFinal`), with `expected`
 * in the place of the human's final record:
 * - a field counts when its value differs by deep JSON equality;
 * - a field absent from `expected` is not compared (as a field absent from `final` is unchanged);
 * - with `trackedFields`, only those fields are compared (the fields the reviewer looked at);
 * - an `expected` that is not an object is compared whole, as the field `"$"`.
 */
import { diffFinal, WHOLE_OUTPUT_FIELD, type OverrideDiff } from './diff-overrides.js';
import { getOwn, isPlainObject, setOwn, type JsonObject } from './json-value.js';

export function scoreCase(output: unknown, expected: unknown, trackedFields?: readonly string[] | null): OverrideDiff {
  if (!isPlainObject(expected)) {
    // An object output against a non-object record: the whole record differs.
    if (isPlainObject(output)) return { overridden: true, fields: [WHOLE_OUTPUT_FIELD] };
    return diffFinal(output, expected);
  }
  return diffFinal(output, comparedPart(expected, trackedFields));
}

/** The fields of `expected` a score compares: all of them, or those also in `trackedFields`. */
export function comparedFields(expected: unknown, trackedFields?: readonly string[] | null): string[] {
  if (!isPlainObject(expected)) return [WHOLE_OUTPUT_FIELD];
  return Object.keys(comparedPart(expected, trackedFields)).sort();
}

function comparedPart(expected: JsonObject, trackedFields: readonly string[] | null | undefined): JsonObject {
  if (trackedFields === undefined || trackedFields === null) return expected;
  const part: JsonObject = {};
  for (const field of trackedFields) {
    if (Object.hasOwn(expected, field)) setOwn(part, field, getOwn(expected, field));
  }
  return part;
}
