import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/domain/overrides/canonical-json.js';
import { JsonTooDeepError } from '../../../src/domain/overrides/json-value.js';
import { parsePath } from '../../../src/redaction/redaction-paths.js';
import { redact, redactionConfigSchema, redactOutput, type RedactionConfig } from '../../../src/redaction/redaction.js';

const hmac = (data: string) => `h(${data})`;

describe('redactionConfigSchema', () => {
  it('accepts the three modes', () => {
    expect(redactionConfigSchema.parse({ mode: 'off' })).toEqual({ mode: 'off' });
    expect(redactionConfigSchema.parse({ mode: 'patterns' })).toEqual({ mode: 'patterns' });
    expect(redactionConfigSchema.parse({ mode: 'patterns', patterns: ['email', 'iban'] })).toEqual({
      mode: 'patterns',
      patterns: ['email', 'iban'],
    });
    expect(redactionConfigSchema.parse({ mode: 'paths', paths: ['customer.email', '$.iban', 'items[*].name', "['a.b'].c"] }).mode).toBe(
      'paths',
    );
  });

  it.each([
    { mode: 'on' },
    { mode: 'paths' },
    { mode: 'paths', paths: [] },
    { mode: 'paths', paths: ['$'] },
    { mode: 'paths', paths: ['a..b'] },
    { mode: 'paths', paths: ['a[x]'] },
    { mode: 'patterns', patterns: ['ssn'] },
    { mode: 'patterns', patterns: [] },
    { mode: 'off', paths: ['a'] },
  ])('refuses %j', (config) => {
    expect(redactionConfigSchema.safeParse(config).success).toBe(false);
  });
});

describe('parsePath', () => {
  it('reads the dialect', () => {
    expect(parsePath('customer.email')).toEqual({
      segments: [
        { kind: 'key', key: 'customer' },
        { kind: 'key', key: 'email' },
      ],
    });
    expect(parsePath('$.iban')).toEqual({ segments: [{ kind: 'key', key: 'iban' }] });
    expect(parsePath('$[0].a')).toEqual({
      segments: [
        { kind: 'index', index: 0 },
        { kind: 'key', key: 'a' },
      ],
    });
    expect(parsePath('items[*].name')).toEqual({
      segments: [{ kind: 'key', key: 'items' }, { kind: 'any' }, { kind: 'key', key: 'name' }],
    });
    expect(parsePath('a.*')).toEqual({ segments: [{ kind: 'key', key: 'a' }, { kind: 'any' }] });
    expect(parsePath('["x.y"].z')).toEqual({
      segments: [
        { kind: 'key', key: 'x.y' },
        { kind: 'key', key: 'z' },
      ],
    });
  });
});

describe('redact, paths mode', () => {
  const input = {
    customer: { email: 'jane@example.com', name: 'Jane' },
    iban: 'DE89370400440532013000',
    items: [
      { name: 'a', sku: 1 },
      { name: 'b', sku: 2 },
    ],
    empty: null,
  };

  it('replaces the selected values and nothing else', () => {
    const config: RedactionConfig = { mode: 'paths', paths: ['customer.email', '$.iban', 'items[*].name', 'empty', 'missing.field'] };
    expect(redact(input, config)).toEqual({
      customer: { email: '[REDACTED:path]', name: 'Jane' },
      iban: '[REDACTED:path]',
      items: [
        { name: '[REDACTED:path]', sku: 1 },
        { name: '[REDACTED:path]', sku: 2 },
      ],
      empty: null,
    });
  });

  it('applies a key to every element of an array without [*]', () => {
    expect(redact(input, { mode: 'paths', paths: ['items.sku'] })).toMatchObject({
      items: [{ sku: '[REDACTED:path]' }, { sku: '[REDACTED:path]' }],
    });
    expect(redact(input, { mode: 'paths', paths: ['items[1]'] })).toMatchObject({ items: [{ name: 'a' }, '[REDACTED:path]'] });
  });

  it('replaces a whole subtree', () => {
    expect(redact(input, { mode: 'paths', paths: ['customer'] })).toMatchObject({ customer: '[REDACTED:path]' });
  });

  it('never mutates its input', () => {
    const before = canonicalJson(input);
    redact(input, { mode: 'paths', paths: ['customer.email', 'items.name'] });
    redact(input, { mode: 'patterns' });
    expect(canonicalJson(input)).toBe(before);
  });

  it('follows only own keys, and keeps __proto__ a data key', () => {
    const value: unknown = JSON.parse('{"__proto__": {"secret": "s"}, "a": 1}');
    const out = redact(value, { mode: 'paths', paths: ['__proto__.secret', 'constructor.name', 'a.toString'] });
    expect(canonicalJson(out)).toBe('{"__proto__":{"secret":"[REDACTED:path]"},"a":1}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out as object, '__proto__')).toBe(true);
  });
});

describe('redact, patterns mode', () => {
  const value = {
    contact: 'Jane <jane@example.com>, +49 30 1234567',
    payment: { iban: 'DE89 3704 0044 0532 0130 00', card: '4111-1111-1111-1111' },
    notes: ['nothing here', 'call 0301234567'],
    total: 4111111111111111,
    ok: true,
  };

  it('replaces every kind by default, inside nested strings only', () => {
    expect(redact(value, { mode: 'patterns' })).toEqual({
      contact: 'Jane <[REDACTED:email]>, [REDACTED:phone]',
      payment: { iban: '[REDACTED:iban]', card: '[REDACTED:card]' },
      notes: ['nothing here', 'call [REDACTED:phone]'],
      total: 4111111111111111,
      ok: true,
    });
  });

  it('honours the chosen kinds', () => {
    expect(redact(value, { mode: 'patterns', patterns: ['card'] })).toMatchObject({
      contact: value.contact,
      payment: { iban: value.payment.iban, card: '[REDACTED:card]' },
    });
  });

  it('returns the same value when nothing matched, and a string output as a string', () => {
    const clean = { a: 'hello', b: [1, 2] };
    expect(redact(clean, { mode: 'patterns' })).toBe(clean);
    expect(redact('jane@example.com', { mode: 'patterns' })).toBe('[REDACTED:email]');
    expect(redact(null, { mode: 'patterns' })).toBeNull();
  });

  it('refuses JSON nested too deep', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 2000; i++) deep = [deep];
    expect(() => redact(deep, { mode: 'patterns' })).toThrow(JsonTooDeepError);
  });
});

describe('redactOutput', () => {
  it('hashes the original value of each field redaction changed', () => {
    const output = { email: 'jane@example.com', total: 10, lines: [{ note: 'card 4111111111111111' }] };
    const { stored, hashes } = redactOutput(output, { mode: 'patterns' }, hmac);
    expect(stored).toEqual({ email: '[REDACTED:email]', total: 10, lines: [{ note: 'card [REDACTED:card]' }] });
    expect(hashes).toEqual({
      email: hmac(canonicalJson('jane@example.com')),
      lines: hmac(canonicalJson([{ note: 'card 4111111111111111' }])),
    });
  });

  it('uses "$" for an output that is not an object', () => {
    expect(redactOutput('mail jane@example.com', { mode: 'patterns' }, hmac)).toEqual({
      stored: 'mail [REDACTED:email]',
      hashes: { $: hmac(canonicalJson('mail jane@example.com')) },
    });
    expect(redactOutput(['jane@example.com'], { mode: 'patterns' }, hmac).hashes).toEqual({ $: hmac('["jane@example.com"]') });
  });

  it('returns no hashes when nothing was redacted', () => {
    expect(redactOutput({ a: 1 }, { mode: 'off' }, hmac)).toEqual({ stored: { a: 1 }, hashes: {} });
    expect(redactOutput({ a: 'plain' }, { mode: 'patterns' }, hmac).hashes).toEqual({});
    expect(redactOutput({ a: '[REDACTED:path]' }, { mode: 'paths', paths: ['a'] }, hmac).hashes).toEqual({});
  });

  it('hashes with key order irrelevant', () => {
    const a = redactOutput(JSON.parse('{"c": {"x": "jane@example.com", "y": 1}}'), { mode: 'patterns' }, hmac);
    const b = redactOutput(JSON.parse('{"c": {"y": 1, "x": "jane@example.com"}}'), { mode: 'patterns' }, hmac);
    expect(a.hashes).toEqual(b.hashes);
  });

  it('keeps a __proto__ field as data in stored and hashes', () => {
    const output: unknown = JSON.parse('{"__proto__": "jane@example.com"}');
    const { stored, hashes } = redactOutput(output, { mode: 'patterns' }, hmac);
    expect(Object.hasOwn(stored as object, '__proto__')).toBe(true);
    expect(Object.hasOwn(hashes, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(hashes)).toBe(Object.prototype);
    expect(JSON.stringify(stored)).toBe('{"__proto__":"[REDACTED:email]"}');
  });
});
