/**
 * Strings PostgreSQL cannot store (U+0000, unpaired surrogates) are found in JSON text and made
 * storable; the body parser's nesting scan counts brackets outside strings only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../../src/domain/overrides/json-value.js';
import { hasUnstorableEscapes, toStorable } from '../../../src/store/storable-json.js';

describe('storable JSON', () => {
  it('finds \\u0000 and unpaired surrogates, and nothing else', () => {
    expect(hasUnstorableEscapes(JSON.stringify({ a: 'x\u0000y' }))).toBe(true);
    expect(hasUnstorableEscapes(JSON.stringify({ 'k\u0000': 1 }))).toBe(true);
    expect(hasUnstorableEscapes(JSON.stringify(['\ud800']))).toBe(true);
    expect(hasUnstorableEscapes(JSON.stringify(['\udc00x']))).toBe(true);
    expect(hasUnstorableEscapes('["\\ud83d\\ude00"]')).toBe(false); // an escaped pair is fine
    expect(hasUnstorableEscapes('["\\ud83d"]')).toBe(true);
    expect(hasUnstorableEscapes(JSON.stringify(['😀 ünï \u0001 \t']))).toBe(false);
    // A literal backslash followed by u0000 is text, not the character.
    expect(hasUnstorableEscapes(JSON.stringify(['C:\\u0000']))).toBe(false);
    expect(hasUnstorableEscapes('["\\\\\\u0000"]')).toBe(true);
  });

  it('replaces them with U+FFFD in values and keys, keeps Dates and everything else', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const v = toStorable({ a: 'x\u0000', ['k\ud800']: ['😀', '\udc00'], at, n: 1, b: null, nested: { ok: 'ünï' } });
    expect(v).toEqual({ a: 'x\uFFFD', ['k\uFFFD']: ['😀', '\uFFFD'], at, n: 1, b: null, nested: { ok: 'ünï' } });
    expect(hasUnstorableEscapes(JSON.stringify(v))).toBe(false);
    const proto = toStorable(JSON.parse('{"__proto__": {"x": "\\u0000"}}'));
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('agrees with a plain check on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        // eslint-disable-next-line no-control-regex -- the characters PostgreSQL refuses, as the module under test
        const bad = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
        expect(hasUnstorableEscapes(JSON.stringify({ s }))).toBe(bad);
        expect(hasUnstorableEscapes(JSON.stringify(toStorable({ s })))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('nesting scan of the body parser', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  it('measures nesting outside strings only', () => {
    expect(nestsDeeperThan(deep(1000), 1000)).toBe(false);
    expect(nestsDeeperThan(deep(1001), 1000)).toBe(true);
    expect(nestsDeeperThan('{"a":' + '{"a":'.repeat(1000) + '1' + '}'.repeat(1001), 1000)).toBe(true);
    expect(nestsDeeperThan(JSON.stringify({ s: '['.repeat(5000) }), 1000)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: '\\"' + '['.repeat(5000) }), 1000)).toBe(false);
    expect(nestsDeeperThan('[' + JSON.stringify('x\\') + ',' + deep(1001) + ']', 1000)).toBe(true);
    expect(nestsDeeperThan('"unterminated' + '['.repeat(2000), 1000)).toBe(false);
  });

  it('agrees with the real depth of random JSON', () => {
    const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (v, max) => {
        expect(nestsDeeperThan(JSON.stringify(v), max)).toBe(depthOf(v) > max);
      }),
      { numRuns: 500 },
    );
  });
});
