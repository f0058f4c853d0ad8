/**
 * Canonical JSON: one string per JSON value, whatever the order of object keys.
 *
 * Follows the JSON Canonicalization Scheme (RFC 8785) where it matters here: object keys sorted
 * by UTF-16 code units, no whitespace, numbers and strings serialised as ECMAScript's
 * JSON.stringify does (so 1 and 1.0, and 0 and -0, are the same number). It is what override
 * detection compares and what the redaction HMAC is computed over, so that "equal" and "same
 * hash" mean the same thing.
 *
 * Values that JSON cannot carry are written as a JSON round trip would store them (undefined and
 * functions: omitted in objects, null elsewhere; NaN and Infinity: null), since runs are stored as
 * JSON and a comparison must agree with what is read back later.
 */
import { assertDepth } from './json-value.js';

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, 0, parts);
  return parts.join('');
}

/**
 * Deep JSON equality: key order is irrelevant, array order is relevant. Defined as equality of
 * the canonical forms so that it can never disagree with a comparison of canonical hashes.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

// Recursion is bounded by MAX_JSON_DEPTH (checked before each descent), far below Node's stack.
function write(value: unknown, depth: number, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      out.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      // JSON.stringify throws here too: a bigint cannot have come from JSON.
      throw new TypeError('canonicalJson: a bigint is not a JSON value');
    case 'object':
      break;
    default:
      // undefined, function, symbol: what a JSON round trip leaves in their place.
      out.push('null');
      return;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  assertDepth(depth + 1);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], depth + 1, out);
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  // Object.keys: own enumerable keys only, so `__proto__` is data and nothing inherited leaks in.
  const keys = Object.keys(record).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(item, depth + 1, out);
  }
  out.push('}');
}
