/**
 * The small JSON path dialect of `{"mode": "paths"}` redaction, and its application.
 *
 * Syntax (relative to the value being redacted, the run's input or its output):
 *   customer.email        $.iban        items[*].name        items[0].name
 *   items.name            (a key met on an array applies to every element, so `[*]` is optional)
 *   customer.*            (every field of an object)      ["odd.key"].value   (quoted key)
 * The root itself (`$` alone) is not a path: replacing a whole object output by a string would
 * turn its fields into the single field "$" and break override counting for the run.
 */
import { BadRequestError } from '../domain/model/errors.js';
import { assertDepth, getOwn, isPlainObject, setOwn, type JsonObject } from '../domain/overrides/json-value.js';

export type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'any' };

/** The segments of `path`, or an error message saying what is wrong with it. */
export function parsePath(path: string): { segments: PathSegment[] } | { error: string } {
  const segments: PathSegment[] = [];
  let at = 0;
  if (path.startsWith('$')) {
    at = 1;
    if (path.length > 1 && path[1] !== '.' && path[1] !== '[') return { error: 'after "$" comes "." or "["' };
  }
  let expectName = at === 0; // a bare first name has no leading dot
  while (at < path.length) {
    const ch = path[at]!;
    if (ch === '.' && !expectName) {
      at++;
      expectName = true;
      if (at >= path.length) return { error: 'a path must not end with "."' };
      continue;
    }
    if (ch === '[') {
      const close = readBracket(path, at);
      if ('error' in close) return close;
      segments.push(close.segment);
      at = close.next;
      expectName = false;
      continue;
    }
    if (!expectName) return { error: `unexpected "${ch}" at position ${at}` };
    let end = at;
    while (end < path.length && path[end] !== '.' && path[end] !== '[' && path[end] !== ']') end++;
    if (end === at) return { error: `empty key at position ${at}` };
    const name = path.slice(at, end);
    segments.push(name === '*' ? { kind: 'any' } : { kind: 'key', key: name });
    at = end;
    expectName = false;
  }
  if (segments.length === 0) return { error: 'a path must name at least one field (the root cannot be redacted)' };
  return { segments };
}

function readBracket(path: string, at: number): { segment: PathSegment; next: number } | { error: string } {
  const quote = path[at + 1];
  if (quote === '"' || quote === "'") {
    const close = path.indexOf(`${quote}]`, at + 2);
    if (close < 0) return { error: `unterminated quoted key at position ${at}` };
    return { segment: { kind: 'key', key: path.slice(at + 2, close) }, next: close + 2 };
  }
  const close = path.indexOf(']', at);
  if (close < 0) return { error: `unterminated "[" at position ${at}` };
  const inner = path.slice(at + 1, close);
  if (inner === '*') return { segment: { kind: 'any' }, next: close + 1 };
  if (/^(?:0|[1-9]\d{0,8})$/.test(inner)) return { segment: { kind: 'index', index: Number(inner) }, next: close + 1 };
  return { error: `"[${inner}]" is neither [*], an index nor a quoted key` };
}

/** Like parsePath, for paths that were already validated by the config schema. */
export function mustParsePath(path: string): PathSegment[] {
  const parsed = parsePath(path);
  if ('error' in parsed) throw new BadRequestError(`Invalid redaction path "${path}": ${parsed.error}.`, { path });
  return parsed.segments;
}

/**
 * `value` with whatever `segments` select replaced by `replace(selected)`. Copy-on-write: the
 * input is never mutated, untouched parts are shared, and a path that selects nothing returns
 * `value` itself (so callers can tell by identity that nothing changed).
 */
export function applyPath(value: unknown, segments: readonly PathSegment[], replace: (selected: unknown) => unknown): unknown {
  return walk(value, segments, 0, 0, replace);
}

function walk(
  value: unknown,
  segments: readonly PathSegment[],
  i: number,
  depth: number,
  replace: (selected: unknown) => unknown,
): unknown {
  const segment = segments[i];
  if (segment === undefined) return replace(value);
  if (Array.isArray(value)) {
    assertDepth(depth + 1);
    if (segment.kind === 'index') {
      if (segment.index >= value.length) return value;
      return withElement(value, segment.index, walk(value[segment.index], segments, i + 1, depth + 1, replace));
    }
    // `[*]` consumes the segment; a key met on an array is applied to each element (same segment).
    const next = segment.kind === 'any' ? i + 1 : i;
    return mapArray(value, (item) => walk(item, segments, next, depth + 1, replace));
  }
  if (isPlainObject(value)) {
    assertDepth(depth + 1);
    if (segment.kind === 'any') {
      let copy: JsonObject | undefined;
      for (const key of Object.keys(value)) {
        const before = value[key];
        const after = walk(before, segments, i + 1, depth + 1, replace);
        if (after !== before) {
          copy ??= cloneObject(value);
          setOwn(copy, key, after);
        }
      }
      return copy ?? value;
    }
    const key = segment.kind === 'key' ? segment.key : String(segment.index);
    if (!Object.hasOwn(value, key)) return value;
    const before = getOwn(value, key);
    const after = walk(before, segments, i + 1, depth + 1, replace);
    if (after === before) return value;
    const copy = cloneObject(value);
    setOwn(copy, key, after);
    return copy;
  }
  return value;
}

/** A shallow copy that keeps `__proto__` as an own data key (spread would too, but say so). */
export function cloneObject(source: JsonObject): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(source)) setOwn(copy, key, source[key]);
  return copy;
}

function withElement(array: unknown[], index: number, item: unknown): unknown[] {
  if (array[index] === item) return array;
  const copy = array.slice();
  copy[index] = item;
  return copy;
}

/** Maps elements, returning the same array when no element changed. */
export function mapArray(array: unknown[], f: (item: unknown) => unknown): unknown[] {
  let copy: unknown[] | undefined;
  for (let k = 0; k < array.length; k++) {
    const before = array[k];
    const after = f(before);
    if (after !== before) {
      copy ??= array.slice();
      copy[k] = after;
    }
  }
  return copy ?? array;
}
