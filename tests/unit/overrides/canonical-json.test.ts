import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonEqual } from '../../../src/domain/overrides/canonical-json.js';
import { JsonTooDeepError, MAX_JSON_DEPTH } from '../../../src/domain/overrides/json-value.js';
import { BadRequestError } from '../../../src/domain/model/errors.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('canonicalJson', () => {
  it('sorts object keys at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('is independent of key insertion order', () => {
    expect(canonicalJson(JSON.parse('{"x":1,"y":{"p":1,"q":2}}'))).toBe(canonicalJson(JSON.parse('{"y":{"q":2,"p":1},"x":1}')));
  });

  it('writes numbers as JSON numbers: 1.0 is 1, -0 is 0', () => {
    expect(canonicalJson(JSON.parse('[1.0, -0, 1e2, 0.1]'))).toBe('[1,0,100,0.1]');
  });

  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'a"b': 'line\nbreak \u2028 é' })).toBe(JSON.stringify({ 'a"b': 'line\nbreak \u2028 é' }));
  });

  it('keeps __proto__ as a plain data key', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"admin": true}, "a": 1}');
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"admin":true},"a":1}');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('writes what a JSON round trip would store for non-JSON values', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, Number.NaN, Infinity])).toBe('[null,null,null]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more with a 400`, () => {
    expect(canonicalJson(nested(MAX_JSON_DEPTH))).toHaveLength(2 * MAX_JSON_DEPTH + 1);
    expect(() => canonicalJson(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonTooDeepError);
    try {
      canonicalJson(nested(MAX_JSON_DEPTH + 1));
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).statusCode).toBe(400);
      expect((err as BadRequestError).code).toBe('json_too_deep');
    }
  });

  it('refuses a very deep value without overflowing the stack', () => {
    expect(() => canonicalJson(nested(200_000))).toThrow(JsonTooDeepError);
  });
});

describe('jsonEqual', () => {
  it('ignores key order and respects array order', () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });

  it('distinguishes types that stringify alike elsewhere', () => {
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual(null, 'null')).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(0, -0)).toBe(true);
  });

  it('refuses a too-deep value even against a scalar', () => {
    expect(() => jsonEqual(nested(MAX_JSON_DEPTH + 5), 1)).toThrow(JsonTooDeepError);
  });
});
