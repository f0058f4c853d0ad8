/**
 * Would the human have overridden the candidate? The candidate's shadow output against the human's
 * record of the control run (expectation.ts), under the feedback rules of diff-overrides.ts: a
 * field counts when the candidate's value differs from the human's by deep JSON equality, a field
 * the candidate left out is compared as null, fields outside the record are not compared.
 *
 * Redaction on either side: where the candidate's stored value is redacted, diffFinal compares the
 * human's value with its hash; where the human's stored value is redacted (a PII field the human
 * typed, or a redacted control value the human kept), the two hashes are compared, since neither
 * original is stored.
 */
import { foldFields } from '../overrides/counted-fields.js';
import { diffFinal, WHOLE_OUTPUT_FIELD, type OverrideDiff } from '../overrides/diff-overrides.js';
import { getOwn, isPlainObject } from '../overrides/json-value.js';
import type { Expectation, StoredOutput } from './expectation.js';

/** Hashes a value as redaction hashes an output field (RunRedactor.hashField). */
export type HashValue = (value: unknown) => string;

export function scoreShadow(candidate: StoredOutput, expected: Expectation, hashValue: HashValue): OverrideDiff {
  const diff = scoreFields(candidate, expected, hashValue);
  // Names a reviewer invented count under `$other`, as on the control's side (shadow-service.ts).
  return expected.named ? { overridden: diff.overridden, fields: foldFields(diff.fields, expected.named) } : diff;
}

function scoreFields(candidate: StoredOutput, expected: Expectation, hashValue: HashValue): OverrideDiff {
  const out = candidate.output;
  const outHashes = candidate.outputHashes ?? {};
  const redaction = Object.keys(outHashes).length > 0 ? { hashes: outHashes, hashValue } : undefined;
  const candidateHash = (field: string): string => {
    if (Object.hasOwn(outHashes, field)) return outHashes[field]!;
    const v = field === WHOLE_OUTPUT_FIELD && !isPlainObject(out) ? out : isPlainObject(out) ? getOwn(out, field) : undefined;
    return hashValue(v === undefined ? null : v);
  };
  const expectedFields = Object.keys(expected.fields);
  if (expectedFields.length === 0) return { overridden: false, fields: [] };

  if (expected.whole) {
    // A candidate that answers with an object where the control answered with a value: changed.
    if (isPlainObject(out)) return { overridden: true, fields: [WHOLE_OUTPUT_FIELD] };
    const changed = Object.hasOwn(expected.hashes, WHOLE_OUTPUT_FIELD)
      ? candidateHash(WHOLE_OUTPUT_FIELD) !== expected.hashes[WHOLE_OUTPUT_FIELD]
      : diffFinal(out, expected.fields[WHOLE_OUTPUT_FIELD], redaction).overridden;
    return changed ? { overridden: true, fields: [WHOLE_OUTPUT_FIELD] } : { overridden: false, fields: [] };
  }
  // The control answered with a record and the candidate did not: every field the human covered is wrong.
  if (!isPlainObject(out)) return { overridden: true, fields: expectedFields.sort() };

  const plain: Record<string, unknown> = {};
  const changed: string[] = [];
  for (const field of expectedFields) {
    if (Object.hasOwn(expected.hashes, field)) {
      if (candidateHash(field) !== expected.hashes[field]) changed.push(field);
    } else {
      Object.defineProperty(plain, field, { value: expected.fields[field], enumerable: true, writable: true, configurable: true });
    }
  }
  changed.push(...diffFinal(out, plain, redaction).fields);
  changed.sort();
  return { overridden: changed.length > 0, fields: changed };
}
