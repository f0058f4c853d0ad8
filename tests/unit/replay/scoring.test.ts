/**
 * Scoring a replayed output against a case by the feedback rules, and the human's record that a
 * reviewed run becomes (human-record.ts): unit tests of the pure functions.
 */
import { describe, expect, it } from 'vitest';
import { diffFinal } from '../../../src/domain/overrides/diff-overrides.js';
import { expectedRecord, humanCorrections } from '../../../src/domain/overrides/human-record.js';
import { comparedFields, scoreCase } from '../../../src/domain/overrides/score-case.js';

describe('scoreCase', () => {
  const expected = { total: 42, vendor: 'ACME', items: [{ sku: 'a', qty: 1 }] };
  it('compares each field of expected by deep equality; key order is irrelevant, 1 and 1.0 equal', () => {
    expect(scoreCase({ items: [{ qty: 1.0, sku: 'a' }], vendor: 'ACME', total: 42 }, expected)).toEqual({ overridden: false, fields: [] });
    expect(scoreCase({ total: 41, vendor: 'ACME', items: [{ sku: 'a', qty: 2 }] }, expected)).toEqual({
      overridden: true,
      fields: ['items', 'total'],
    });
  });
  it('does not compare fields absent from expected, and compares a missing output field as null', () => {
    expect(scoreCase({ total: 42, vendor: 'ACME', items: [{ sku: 'a', qty: 1 }], extra: 'x' }, expected).overridden).toBe(false);
    expect(scoreCase({ total: 42 }, expected).fields).toEqual(['items', 'vendor']);
    expect(scoreCase({}, { date: null }).overridden).toBe(false);
  });
  it('respects trackedFields', () => {
    expect(scoreCase({ total: 1, vendor: 'ACME' }, expected, ['vendor'])).toEqual({ overridden: false, fields: [] });
    expect(scoreCase({ total: 1, vendor: 'X' }, expected, ['vendor', 'nonexistent'])).toEqual({ overridden: true, fields: ['vendor'] });
    expect(comparedFields(expected, ['vendor', 'nonexistent'])).toEqual(['vendor']);
    expect(comparedFields(expected, null)).toEqual(['items', 'total', 'vendor']);
  });
  it('compares a record that is not an object whole, as "$"', () => {
    expect(scoreCase('yes', 'yes')).toEqual({ overridden: false, fields: [] });
    expect(scoreCase('no', 'yes')).toEqual({ overridden: true, fields: ['$'] });
    expect(scoreCase({ a: 1 }, 'yes')).toEqual({ overridden: true, fields: ['$'] });
    expect(scoreCase('yes', { a: 1 })).toEqual({ overridden: true, fields: ['$'] });
    expect(comparedFields([1, 2])).toEqual(['$']);
  });
  it('agrees with the feedback rules: scoring an output against a final record is the feedback diff', () => {
    const output = { total: 42, vendor: 'ACME', date: null };
    for (const final of [{ total: 43 }, { vendor: 'ACME' }, { date: '2026-01-01', currency: 'EUR' }, { total: 42.0 }]) {
      expect(scoreCase(output, final)).toEqual(diffFinal(output, final));
    }
  });
});

describe('human-record: corrections kept with feedback, and the expected record of a case', () => {
  const output = { total: 42, vendor: 'ACME', date: '2026-01-31' };
  it('final form: the changed values, and the fields the record named', () => {
    const body = { final: { total: 43, vendor: 'ACME' } };
    const c = humanCorrections(output, body, diffFinal(output, body.final));
    expect(c).toEqual({ corrections: { total: 43 }, tracked: ['total', 'vendor'] });
    const e = expectedRecord({ output, redactedFields: [], fields: ['total'], ...c });
    expect(e).toEqual({ expected: { total: 43, vendor: 'ACME', date: '2026-01-31' }, trackedFields: ['total', 'vendor'] });
  });
  it('overrides form: the last value per field; every field is covered', () => {
    const overrides = [
      { field: 'date', value: '2026-02-01' },
      { field: 'date', value: '2026-02-02' },
      { field: 'total', value: 42 },
    ];
    const diff = { overridden: true, fields: ['date'] };
    const c = humanCorrections(output, { overrides }, diff);
    expect(c).toEqual({ corrections: { date: '2026-02-02' }, tracked: null });
    expect(expectedRecord({ output, redactedFields: [], fields: ['date'], ...c })).toEqual({
      expected: { ...output, date: '2026-02-02' },
      trackedFields: null,
    });
  });
  it('a tracked field the AI left out and the human left empty is expected as null; a filled one as its value', () => {
    const body = { final: { total: 42, currency: 'EUR', note: null } };
    const diff = diffFinal(output, body.final);
    expect(diff.fields).toEqual(['currency']);
    const c = humanCorrections(output, body, diff);
    const e = expectedRecord({ output, redactedFields: [], fields: diff.fields, ...c })!;
    expect(e.expected).toEqual({ total: 42, vendor: 'ACME', date: '2026-01-31', currency: 'EUR', note: null });
    expect(e.trackedFields).toEqual(['currency', 'note', 'total']);
  });
  it('a whole output ("$")', () => {
    const c = humanCorrections('draft', { final: 'final text' }, { overridden: true, fields: ['$'] });
    expect(c).toEqual({ corrections: { $: 'final text' }, tracked: null });
    expect(expectedRecord({ output: 'draft', redactedFields: [], fields: ['$'], ...c })).toEqual({
      expected: 'final text',
      trackedFields: null,
    });
    expect(expectedRecord({ output: 'draft', redactedFields: [], fields: [], corrections: {}, tracked: null })).toEqual({
      expected: 'draft',
      trackedFields: null,
    });
    expect(
      expectedRecord({ output: '[REDACTED:email]', redactedFields: ['$'], fields: [], corrections: {}, tracked: null }),
    ).toBeUndefined();
  });
  it('redaction: a correction redaction changed is dropped, and so is an AI value stored as a placeholder', () => {
    const redact = (v: unknown) => {
      const o = v as Record<string, unknown>;
      return typeof o.vendor === 'string' && o.vendor.includes('@')
        ? { output: { ...o, vendor: '[REDACTED:email]' }, outputHashes: { vendor: 'h' } }
        : { output: v };
    };
    const body = { final: { total: 1, vendor: 'bob@example.com' } };
    const c = humanCorrections(output, body, diffFinal(output, body.final), redact);
    expect(c).toEqual({ corrections: { total: 1 }, tracked: ['total', 'vendor'] });
    const e = expectedRecord({
      output: { ...output, date: '[REDACTED:path]' },
      redactedFields: ['date'],
      fields: ['total', 'vendor'],
      ...c,
    });
    expect(e).toEqual({ expected: { total: 1 }, trackedFields: ['total'] });
  });
  it('feedback kept before corrections existed: an overridden run cannot become a case, an unchanged one can', () => {
    expect(expectedRecord({ output, redactedFields: [], fields: ['total'], corrections: null, tracked: null })).toBeUndefined();
    expect(expectedRecord({ output, redactedFields: [], fields: [], corrections: null, tracked: null })).toEqual({
      expected: output,
      trackedFields: null,
    });
  });
  it('__proto__ is a field like any other', () => {
    const final = JSON.parse('{"__proto__": {"x": 1}}');
    const diff = diffFinal(output, final);
    const c = humanCorrections(output, { final }, diff);
    const e = expectedRecord({ output, redactedFields: [], fields: diff.fields, ...c })!;
    expect(Object.hasOwn(e.expected as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(e.expected)).toBe(Object.prototype);
  });
});
