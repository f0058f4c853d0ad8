import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffFinal, diffOverrides, fieldHasher } from '../../../src/domain/overrides/diff-overrides.js';
import { isValidIban, luhnValid } from '../../../src/redaction/pii-patterns.js';
import { parsePath } from '../../../src/redaction/redaction-paths.js';
import { redact, redactionConfigSchema, redactOutput, type RedactionConfig } from '../../../src/redaction/redaction.js';

const hmac = (data: string) => createHmac('sha256', 'test-secret').update(data).digest('base64url');
const hashValue = fieldHasher(hmac);

// ---- generators -------------------------------------------------------------------------------

/** Keys that break naive code (prototype members, the "$" field, "") beside ordinary ones. */
const keyArb = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '$', '', 'a', 'b', 'email', 'items'),
  fc.string({ maxLength: 6 }),
);

function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

const cardArb = fc
  .tuple(fc.constantFrom('4', '5', '37', '6011', '2', '3'), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 16 }))
  .map(([prefix, digits]) => luhnComplete((prefix + digits.join('')).slice(0, 18)))
  .filter((card) => card.length >= 13);

const formattedCardArb = fc
  .tuple(cardArb, fc.constantFrom('', ' ', '-'))
  .map(([card, sep]) => (sep === '' ? card : card.replace(/(\d{4})(?=\d)/g, `$1${sep}`)));

const IBAN_COUNTRIES: Array<[string, number]> = [
  ['DE', 22],
  ['GB', 22],
  ['FR', 27],
  ['NL', 18],
  ['NO', 15],
  ['IT', 27],
  ['ES', 24],
  ['CH', 21],
  ['PL', 28],
  ['MT', 31],
];

function mod97(text: string): number {
  let r = 0;
  for (const ch of text) r = /\d/.test(ch) ? (r * 10 + Number(ch)) % 97 : (r * 100 + ch.charCodeAt(0) - 55) % 97;
  return r;
}

const ibanArb = fc
  .tuple(
    fc.constantFrom(...IBAN_COUNTRIES),
    fc.array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'), { minLength: 30, maxLength: 30 }),
  )
  .map(([[country, length], chars]) => {
    const bban = chars.slice(0, length - 4).join('');
    const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
    return `${country}${check}${bban}`;
  });

const formattedIbanArb = fc.tuple(ibanArb, fc.boolean(), fc.boolean()).map(([iban, grouped, lower]) => {
  const text = grouped ? iban.replace(/(.{4})(?=.)/g, '$1 ') : iban;
  return lower ? text.toLowerCase() : text;
});

const separatorArb = fc.constantFrom(' ', '\n', ', ', ': ', ' (', ') ', '\t', ' / ');

const piiStringArb = fc
  .tuple(
    fc.string({ maxLength: 8 }),
    separatorArb,
    fc.oneof(formattedCardArb, formattedIbanArb, fc.emailAddress(), fc.constantFrom('+49 30 1234567', '(555) 123-4567')),
    separatorArb,
    fc.string({ maxLength: 8 }),
  )
  .map((parts) => parts.join(''));

const scalarArb = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 10 }),
  piiStringArb,
);

/** JSON with own `__proto__` keys (Object.fromEntries defines, never sets, properties). */
const { json: jsonArb } = fc.letrec<{ json: unknown; arr: unknown[]; obj: Record<string, unknown> }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalarArb, tie('arr'), tie('obj')),
  arr: fc.array(tie('json'), { maxLength: 4 }),
  obj: fc.array(fc.tuple(keyArb, tie('json')), { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
}));

const objectArb = fc
  .array(fc.tuple(keyArb, jsonArb), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

const pathKeyArb = fc.constantFrom('a', 'b', 'email', 'items', '__proto__', 'constructor', '$', '*', '[*]', '[0]');
const configArb: fc.Arbitrary<RedactionConfig> = fc
  .oneof(
    fc.constant({ mode: 'off' as const }),
    fc.constant({ mode: 'patterns' as const }),
    fc.subarray(['email', 'phone', 'iban', 'card'] as const, { minLength: 1 }).map((patterns) => ({ mode: 'patterns' as const, patterns })),
    fc
      .array(fc.array(pathKeyArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 })
      .map((paths) => paths.map((segments) => segments.join('.').replace(/\.\[/g, '[')).filter((path) => !('error' in parsePath(path))))
      .filter((paths) => paths.length > 0)
      .map((paths) => ({ mode: 'paths' as const, paths })),
  )
  .map((config) => redactionConfigSchema.parse(config));

/** A deep copy with every object's keys in reverse order. */
function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((k) => [k, reorder((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---- properties -------------------------------------------------------------------------------

describe('override properties', () => {
  it('(a) a record compared with itself, keys in any order, is never overridden', () => {
    fc.assert(
      fc.property(jsonArb, (o) => {
        expect(diffFinal(o, o)).toEqual({ overridden: false, fields: [] });
        expect(diffFinal(o, reorder(o))).toEqual({ overridden: false, fields: [] });
      }),
    );
  });

  it('(b) an empty final is never overridden', () => {
    fc.assert(
      fc.property(objectArb, (o) => {
        expect(diffFinal(o, {})).toEqual({ overridden: false, fields: [] });
      }),
    );
  });

  it('(c) exactly the changed fields are reported, by both forms', () => {
    fc.assert(
      fc.property(
        objectArb,
        fc.array(keyArb, { maxLength: 4 }),
        fc.array(fc.tuple(keyArb, jsonArb), { maxLength: 4 }),
        (o, changedExisting, added) => {
          const changed = new Map<string, unknown>();
          // A value wrapping the AI's can never equal it.
          for (const k of changedExisting) changed.set(k, [own(o, k) ?? null, 'changed']);
          for (const [k, v] of added) if (own(o, k) === undefined && !changed.has(k) && v !== null) changed.set(k, v);
          const untouched = Object.keys(o).filter((k) => !changed.has(k));
          const final = Object.fromEntries([...untouched.map((k) => [k, reorder(o[k])] as const), ...changed]);
          const expected = { overridden: changed.size > 0, fields: [...changed.keys()].sort() };
          expect(diffFinal(o, final)).toEqual(expected);
          const list = [
            ...untouched.map((field) => ({ field, value: o[field] })),
            ...[...changed].map(([field, value]) => ({ field, value })),
          ];
          expect(diffOverrides(o, list)).toEqual(expected);
        },
      ),
    );
  });

  it('(d) diffs against the redacted output plus hashes equal diffs against the original', () => {
    const pick = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 });
    const randoms = fc.array(jsonArb, { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(
        fc.oneof(objectArb, jsonArb),
        configArb,
        pick,
        randoms,
        fc.array(fc.tuple(keyArb, jsonArb), { maxLength: 2 }),
        (output, config, picks, values, extra) => {
          const { stored, hashes } = redactOutput(output, config, hmac);
          const redaction = { hashes, hashValue };
          let final: unknown;
          if (isObject(output)) {
            // Per field: absent, kept (in another key order), cleared, or replaced; plus new fields.
            const entries: Array<[string, unknown]> = [];
            Object.keys(output).forEach((k, i) => {
              const choice = picks[i % picks.length]!;
              if (choice === 1) entries.push([k, reorder(output[k])]);
              if (choice === 2) entries.push([k, null]);
              if (choice === 3) entries.push([k, values[i % values.length]]);
            });
            final = Object.fromEntries([...entries, ...extra]);
          } else {
            final = picks[0]! < 2 ? reorder(output) : values[0];
          }
          expect(diffFinal(stored, final, redaction)).toEqual(diffFinal(output, final));
          const list =
            isObject(output) && isObject(final)
              ? Object.keys(final).map((field) => ({ field, value: final[field] }))
              : [{ field: '$', value: final }];
          expect(diffOverrides(stored, list, redaction)).toEqual(diffOverrides(output, list));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('(e) redact never returns a Luhn-valid card or mod-97-valid IBAN it was given', () => {
    const secretArb = fc.oneof(formattedCardArb, formattedIbanArb);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        separatorArb,
        secretArb,
        separatorArb,
        fc.string({ maxLength: 12 }),
        fc.constantFrom<RedactionConfig>({ mode: 'patterns' }, { mode: 'patterns', patterns: ['iban', 'card'] }),
        (before, sep1, secret, sep2, after, config) => {
          const compact = secret.replace(/[ -]/g, '');
          expect(luhnValid(compact) || isValidIban(compact)).toBe(true);
          const text = `${before}${sep1}${secret}${sep2}${after}`;
          fc.pre(!before.includes(secret) && !after.includes(secret));
          const out = redact({ note: text, list: [text] }, config) as { note: string; list: string[] };
          expect(out.note).not.toContain(secret);
          expect(out.list[0]).not.toContain(secret);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves Object.prototype alone whatever the keys', () => {
    fc.assert(
      fc.property(objectArb, configArb, (o, config) => {
        diffFinal(o, reorder(o));
        redactOutput(o, config, hmac);
        redactOutput(o, { mode: 'paths', paths: ['__proto__.a', 'constructor', 'prototype'] }, hmac);
        expect(Object.keys(Object.prototype)).toEqual([]);
        expect(({} as Record<string, unknown>)['a']).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it('prototype keys parsed from JSON are data in both directions', () => {
    const output: unknown = JSON.parse('{"__proto__": {"polluted": "jane@example.com"}, "constructor": 1}');
    const { stored, hashes } = redactOutput(output, { mode: 'patterns' }, hmac);
    expect(Object.keys(hashes)).toEqual(['__proto__']);
    const redaction = { hashes, hashValue };
    const same: unknown = JSON.parse('{"__proto__": {"polluted": "jane@example.com"}}');
    const other: unknown = JSON.parse('{"__proto__": {"polluted": "joe@example.com"}}');
    expect(diffFinal(stored, same, redaction)).toEqual({ overridden: false, fields: [] });
    expect(diffFinal(stored, other, redaction)).toEqual({ overridden: true, fields: ['__proto__'] });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
