/**
 * Which changed fields the read models count by name (README "Limits and timeouts"): the
 * comparison's `fieldOverrideRates` has one entry per name, so names a tenant invents must not
 * reach it. With `trackedFields` declared on the chain, only those are counted by name; without,
 * only fields the AI's output has (a tenant's reviewer can add any key to `final`, the upstream's
 * output is the chain's), at most MAX_COUNTED_FIELDS_PER_FEEDBACK of them. Every other changed field
 * counts once under OTHER_FIELD. The feedback's own `fields` (the answer, the run) stay complete.
 */
import { MAX_COUNTED_FIELDS_PER_FEEDBACK, MAX_TRACKED_FIELDS, OTHER_FIELD } from '../model/limits.js';
import { WHOLE_OUTPUT_FIELD } from './diff-overrides.js';
import { isPlainObject } from './json-value.js';

export function countedFields(changed: readonly string[], output: unknown, trackedFields: readonly string[] | null | undefined): string[] {
  const named = trackedFields
    ? (field: string) => trackedFields.includes(field)
    : isPlainObject(output)
      ? (field: string) => Object.hasOwn(output, field)
      : (field: string) => field === WHOLE_OUTPUT_FIELD;
  const limit = trackedFields ? Infinity : MAX_COUNTED_FIELDS_PER_FEEDBACK;
  const out: string[] = [];
  let other = false;
  for (const field of changed) {
    // `$other` itself is a name a reviewer could send: it is never a tracked field.
    if (field !== OTHER_FIELD && out.length < limit && named(field)) out.push(field);
    else other = true;
  }
  if (other) out.push(OTHER_FIELD);
  return out.sort();
}

/**
 * The names a paired comparison (shadow runs) counts by name for one reviewed run: the chain's
 * `trackedFields`, else the fields of the control's output (at most MAX_TRACKED_FIELDS, sorted).
 * Both sides of a pair are folded with the same list, so a field compares like for like.
 */
export function nameableFields(output: unknown, trackedFields: readonly string[] | null | undefined): string[] {
  if (trackedFields) return [...trackedFields];
  if (!isPlainObject(output)) return [WHOLE_OUTPUT_FIELD];
  return Object.keys(output).sort().slice(0, MAX_TRACKED_FIELDS);
}

/** `changed` with every field outside `named` counted once under OTHER_FIELD, sorted. */
export function foldFields(changed: readonly string[], named: readonly string[]): string[] {
  const names = new Set(named);
  const out = changed.filter((f) => f !== OTHER_FIELD && names.has(f));
  if (out.length < changed.length) out.push(OTHER_FIELD);
  return out.sort();
}
