import { describe, expect, it } from 'vitest';
import { diffFinal, diffOverrides, fieldHasher, type RedactedComparison } from '../../../src/domain/overrides/diff-overrides.js';
import { JsonTooDeepError } from '../../../src/domain/overrides/json-value.js';
import { redactOutput } from '../../../src/redaction/redaction.js';
import { BadRequestError } from '../../../src/domain/model/errors.js';

const output = { total: 42, currency: 'EUR', vendor: { name: 'ACME', vat: 'DE1' }, lines: [1, 2], note: null };

describe('diffFinal', () => {
  it('reports nothing when the human left everything as it was', () => {
    expect(diffFinal(output, structuredClone(output))).toEqual({ overridden: false, fields: [] });
  });

  it('treats a field absent from final as unchanged', () => {
    expect(diffFinal(output, { total: 42 })).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(output, {})).toEqual({ overridden: false, fields: [] });
  });

  it('counts a changed top-level value', () => {
    expect(diffFinal(output, { total: 43, currency: 'EUR' })).toEqual({ overridden: true, fields: ['total'] });
  });

  it('counts null as clearing a value the AI had', () => {
    expect(diffFinal(output, { currency: null })).toEqual({ overridden: true, fields: ['currency'] });
  });

  it('does not count null for a value that was already null or that the AI left out', () => {
    expect(diffFinal(output, { note: null })).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(output, { dueDate: null })).toEqual({ overridden: false, fields: [] });
  });

  it('counts a field the AI left out and the human filled', () => {
    expect(diffFinal(output, { dueDate: '2024-05-01' })).toEqual({ overridden: true, fields: ['dueDate'] });
    expect(diffFinal(output, { note: 'paid' })).toEqual({ overridden: true, fields: ['note'] });
  });

  it('ignores object key order and compares numbers as JSON numbers', () => {
    const final: unknown = JSON.parse('{"vendor": {"vat": "DE1", "name": "ACME"}, "total": 42.0}');
    expect(diffFinal(output, final)).toEqual({ overridden: false, fields: [] });
  });

  it('counts array order', () => {
    expect(diffFinal(output, { lines: [2, 1] })).toEqual({ overridden: true, fields: ['lines'] });
  });

  it('attributes a nested change to its top-level field', () => {
    expect(diffFinal(output, { vendor: { name: 'ACME Corp', vat: 'DE1' } })).toEqual({ overridden: true, fields: ['vendor'] });
  });

  it('sorts the fields', () => {
    expect(diffFinal(output, { total: 1, currency: 'USD', b: 1, A: 2 }).fields).toEqual(['A', 'b', 'currency', 'total']);
  });

  it('treats a non-object output as the single field "$", compared whole', () => {
    expect(diffFinal('a summary', 'a summary')).toEqual({ overridden: false, fields: [] });
    expect(diffFinal('a summary', 'a better summary')).toEqual({ overridden: true, fields: ['$'] });
    expect(diffFinal([1, 2], [1, 2])).toEqual({ overridden: false, fields: [] });
    expect(diffFinal([1, 2], [1])).toEqual({ overridden: true, fields: ['$'] });
    expect(diffFinal(7, 7.0)).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(null, { a: 1 })).toEqual({ overridden: true, fields: ['$'] });
    expect(diffFinal('text', { $: 'text' })).toEqual({ overridden: true, fields: ['$'] });
  });

  it('refuses a non-object final for an object output', () => {
    expect(() => diffFinal(output, 'x')).toThrow(BadRequestError);
    expect(() => diffFinal(output, [output])).toThrow(BadRequestError);
  });

  it('handles prototype keys as plain data', () => {
    const ai: unknown = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c", "a": 1}');
    expect(diffFinal(ai, JSON.parse('{"__proto__": {"x": 1}, "constructor": "c"}'))).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(ai, JSON.parse('{"__proto__": {"x": 2}}'))).toEqual({ overridden: true, fields: ['__proto__'] });
    // Fields the AI did not return are not read from Object.prototype.
    expect(diffFinal({ a: 1 }, JSON.parse('{"constructor": null, "toString": null, "prototype": null}'))).toEqual({
      overridden: false,
      fields: [],
    });
    expect(diffFinal({ a: 1 }, JSON.parse('{"constructor": "x", "hasOwnProperty": 1}'))).toEqual({
      overridden: true,
      fields: ['constructor', 'hasOwnProperty'],
    });
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('maps JSON deeper than 1000 levels to a 400', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    expect(() => diffFinal(output, { total: deep })).toThrow(JsonTooDeepError);
  });
});

describe('diffOverrides', () => {
  it('reads [] as reviewed with nothing changed', () => {
    expect(diffOverrides(output, [])).toEqual({ overridden: false, fields: [] });
  });

  it('counts a listed field whose value differs', () => {
    expect(diffOverrides(output, [{ field: 'total', value: 40 }])).toEqual({ overridden: true, fields: ['total'] });
  });

  it("does not count a value re-typed equal to the AI's, whatever the key order", () => {
    expect(
      diffOverrides(output, [
        { field: 'total', value: 42.0 },
        { field: 'vendor', value: { vat: 'DE1', name: 'ACME' } },
      ]),
    ).toEqual({ overridden: false, fields: [] });
  });

  it('lets the last entry for a field win', () => {
    expect(
      diffOverrides(output, [
        { field: 'total', value: 1 },
        { field: 'total', value: 42 },
      ]),
    ).toEqual({ overridden: false, fields: [] });
    expect(
      diffOverrides(output, [
        { field: 'total', value: 42 },
        { field: 'total', value: 1 },
      ]),
    ).toEqual({ overridden: true, fields: ['total'] });
  });

  it('treats null as clearing and a missing value as null', () => {
    expect(diffOverrides(output, [{ field: 'currency', value: null }])).toEqual({ overridden: true, fields: ['currency'] });
    expect(diffOverrides(output, [{ field: 'currency' }])).toEqual({ overridden: true, fields: ['currency'] });
    expect(diffOverrides(output, [{ field: 'note' }])).toEqual({ overridden: false, fields: [] });
  });

  it('counts a field the AI left out', () => {
    expect(diffOverrides(output, [{ field: 'dueDate', value: '2024-05-01' }])).toEqual({ overridden: true, fields: ['dueDate'] });
  });

  it('uses "$" for a non-object output and refuses other fields there', () => {
    expect(diffOverrides('text', [{ field: '$', value: 'text' }])).toEqual({ overridden: false, fields: [] });
    expect(diffOverrides('text', [{ field: '$', value: 'other' }])).toEqual({ overridden: true, fields: ['$'] });
    expect(() => diffOverrides('text', [{ field: 'total', value: 1 }])).toThrow(BadRequestError);
  });

  it('handles a field named __proto__', () => {
    const ai: unknown = JSON.parse('{"__proto__": 1}');
    expect(diffOverrides(ai, [{ field: '__proto__', value: 1 }])).toEqual({ overridden: false, fields: [] });
    expect(diffOverrides({}, [{ field: '__proto__', value: 1 }])).toEqual({ overridden: true, fields: ['__proto__'] });
    expect(diffOverrides({}, [{ field: 'constructor', value: null }])).toEqual({ overridden: false, fields: [] });
  });
});

describe('diffs against a redacted output', () => {
  const hmac = (data: string) => `h(${data})`;
  const original = { email: 'jane@example.com', phone: 'call +49 30 1234567', total: 10 };
  const { stored, hashes } = redactOutput(original, { mode: 'patterns' }, hmac);
  const redaction: RedactedComparison = { hashes, hashValue: fieldHasher(hmac) };

  it('stores placeholders and hashes only the changed fields', () => {
    expect(stored).toEqual({ email: '[REDACTED:email]', phone: 'call [REDACTED:phone]', total: 10 });
    expect(Object.keys(hashes).sort()).toEqual(['email', 'phone']);
  });

  it('gives the same diff as the unredacted output', () => {
    const finals: unknown[] = [
      {},
      { email: 'jane@example.com' },
      { email: 'john@example.com' },
      { email: null, total: 10 },
      { phone: 'call +49 30 1234567', total: 11 },
      { extra: 1 },
    ];
    for (const final of finals) expect(diffFinal(stored, final, redaction)).toEqual(diffFinal(original, final));
    const lists = [[{ field: 'email', value: 'jane@example.com' }], [{ field: 'email', value: 'x@y.org' }], []];
    for (const list of lists) expect(diffOverrides(stored, list, redaction)).toEqual(diffOverrides(original, list));
  });

  it('does not count the placeholder sent back untouched by a review tool', () => {
    expect(diffFinal(stored, { email: '[REDACTED:email]' }, redaction)).toEqual({ overridden: false, fields: [] });
  });

  it('works for a non-object output through "$"', () => {
    const text = 'write to jane@example.com';
    const r = redactOutput(text, { mode: 'patterns' }, hmac);
    expect(r.stored).toBe('write to [REDACTED:email]');
    const cmp = { hashes: r.hashes, hashValue: fieldHasher(hmac) };
    expect(diffFinal(r.stored, text, cmp)).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(r.stored, 'write to joe@example.com', cmp)).toEqual({ overridden: true, fields: ['$'] });
    expect(diffOverrides(r.stored, [{ field: '$', value: text }], cmp)).toEqual({ overridden: false, fields: [] });
  });

  it('does not read a hash named like an Object.prototype member', () => {
    const cmp = { hashes: {}, hashValue: fieldHasher(hmac) };
    expect(diffFinal({ constructor: 'x' }, { constructor: 'x' }, cmp)).toEqual({ overridden: false, fields: [] });
    expect(diffFinal({ toString: 'x' }, { toString: 'y' }, cmp)).toEqual({ overridden: true, fields: ['toString'] });
  });
});
