/**
 * Whether a stored value went through redaction: it holds a `[REDACTED:<kind>]` placeholder
 * (pii-patterns.ts `placeholder`) in some string. Runs do not record whether their input was
 * redacted, but the placeholder is what redaction leaves, so a dataset can say how many of its
 * inputs are not what the chain originally received.
 */
import { assertDepth } from '../domain/overrides/json-value.js';
import { placeholder } from './pii-patterns.js';

const MARK = placeholder('').slice(0, -1); // "[REDACTED:"

export function containsRedaction(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes(MARK);
  if (value === null || typeof value !== 'object') return false;
  assertDepth(depth + 1);
  const items = Array.isArray(value) ? value : Object.values(value);
  return items.some((item) => containsRedaction(item, depth + 1));
}
