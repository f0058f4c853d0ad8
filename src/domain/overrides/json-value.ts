/**
 * Small helpers for walking untrusted JSON (a chain's output, a reviewer's `final`) safely.
 *
 * Two hazards shape them:
 * - Prototype pollution: `JSON.parse('{"__proto__": 1}')` yields an OWN key `__proto__`. Reading
 *   `obj[key]` for a key the object does not own walks up to `Object.prototype` (so `constructor`
 *   would read as a function), and writing `obj['__proto__'] = v` on a plain object replaces its
 *   prototype instead of adding a field. So reads go through `Object.hasOwn` and writes through
 *   `defineProperty`.
 * - Stack overflow: a body of 10 MiB can nest arrays a million deep. Every walker here checks
 *   `MAX_JSON_DEPTH` before it descends, and the error it throws is a 400.
 */
import { BadRequestError } from '../model/errors.js';

/** Deeper JSON than this is refused (a 400) rather than walked: no real record nests this far. */
export const MAX_JSON_DEPTH = 1000;

export class JsonTooDeepError extends BadRequestError {
  constructor(readonly maxDepth: number = MAX_JSON_DEPTH) {
    super(`JSON nested deeper than ${maxDepth} levels is not accepted.`, { maxDepth }, 'json_too_deep');
  }
}

export type JsonObject = Record<string, unknown>;

/**
 * A JSON object: not null, not an array, and a plain or null-prototype object (so a Date or a Map
 * that slipped in is not mistaken for a record with fields).
 */
export function isPlainObject(value: unknown): value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The object's own value for `key`, or undefined; never an inherited one. */
export function getOwn(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Adds `key` as an own data property, even when the key is `__proto__`. */
export function setOwn(object: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

/** Throws the 400 when a walker is about to enter a container at `depth` (the root container is 1). */
export function assertDepth(depth: number): void {
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
}

/** Whether JSON text nests arrays and objects more than `max` deep (brackets in strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  // Each level costs at least one character: shorter text cannot nest that deep.
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return false; // unterminated string: the parser reports it
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
