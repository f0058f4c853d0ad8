/**
 * What PostgreSQL cannot store although JSON can carry it: the character U+0000 (in jsonb
 * "unsupported Unicode escape sequence", in text "invalid byte sequence") and unpaired UTF-16
 * surrogates (jsonb: "invalid input syntax"). One such string in a run would make its whole batch
 * fail, again and again, and hold back every run queued behind it. So request bodies carrying
 * them are refused (json-body.ts), and the spool makes any run or feedback that still carries one
 * (an upstream's output, say) storable before it is queued: such characters become U+FFFD.
 *
 * Both checks look at JSON text: JSON.stringify writes exactly these characters as `\u` escapes
 * (U+0000 as \u0000, a lone surrogate as \udXXX), so text without `\u` needs no further look.
 */
import type { Logger } from 'pino';

/** Whether JSON text has a `\u0000` escape or an escaped surrogate that is not part of a pair. */
export function hasUnstorableEscapes(json: string): boolean {
  let i = json.indexOf('\\u');
  while (i >= 0) {
    // A backslash preceded by an odd number of backslashes is itself escaped: not an escape.
    let before = 0;
    while (json.charCodeAt(i - 1 - before) === 0x5c) before++;
    if (before % 2 === 1) {
      i = json.indexOf('\\u', i + 2);
      continue;
    }
    const code = parseInt(json.slice(i + 2, i + 6), 16);
    if (code === 0 || (code >= 0xdc00 && code <= 0xdfff)) return true;
    if (code >= 0xd800 && code <= 0xdbff) {
      const low = json.startsWith('\\u', i + 6) ? parseInt(json.slice(i + 8, i + 12), 16) : NaN;
      if (!(low >= 0xdc00 && low <= 0xdfff)) return true;
      i = json.indexOf('\\u', i + 12);
      continue;
    }
    i = json.indexOf('\\u', i + 6);
  }
  return false;
}

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what PostgreSQL refuses in text and jsonb
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storableString(s: string): string {
  return s.replace(UNSTORABLE, '\uFFFD');
}

/** A copy of `value` with U+0000 and unpaired surrogates replaced (in keys too); Dates kept. */
export function toStorable<T>(value: T): T {
  if (typeof value === 'string') return storableString(value) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- rebuilds the same JSON value it was given
  if (Array.isArray(value)) return value.map((v) => toStorable(v)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, storableString(k), { value: toStorable(v), enumerable: true, writable: true, configurable: true });
  }
  return out as T;
}

/**
 * The record's JSON, built once for the spool and the database insert alike. A record that carries
 * what PostgreSQL cannot store is made storable in place first (the writer queues this same
 * object), and `onReplaced` is told `runId` (a function made once by the caller and the id, not
 * a closure per record: this runs for every run on the request path).
 */
export function storableJson(record: object, onReplaced: (runId: string) => void, runId = ''): string {
  const json = JSON.stringify(record);
  if (!hasUnstorableEscapes(json)) return json;
  Object.assign(record, toStorable(record));
  onReplaced(runId);
  return JSON.stringify(record);
}

export function warnReplaced(log: Logger, runId: string): void {
  log.warn({ runId }, 'a run or feedback had characters PostgreSQL cannot store (U+0000, unpaired surrogates): replaced by U+FFFD');
}
