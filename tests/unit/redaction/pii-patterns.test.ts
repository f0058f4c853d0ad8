import { describe, expect, it } from 'vitest';
import { isValidIban, luhnValid, PII_KINDS, redactText, type PiiKind } from '../../../src/redaction/pii-patterns.js';

const ALL = new Set<PiiKind>(PII_KINDS);
const only = (kind: PiiKind) => new Set<PiiKind>([kind]);

describe('email', () => {
  it.each([
    ['write to jane.doe+invoices@example.co.uk today', 'write to [REDACTED:email] today'],
    ['<bob_smith@mail.example.com>', '<[REDACTED:email]>'],
    ['"ünïcødé@exämple.de"', '"[REDACTED:email]"'],
    ['a@b.io, c@d.io.', '[REDACTED:email], [REDACTED:email].'],
    ['xn: user@xn--bcher-kva.example', 'xn: [REDACTED:email]'],
  ])('redacts %s', (text, expected) => {
    expect(redactText(text, only('email'))).toBe(expected);
  });

  it.each(['no at sign here', 'user@localhost', 'a@b.c', '@example.com', 'price 10 @ 5.00 each', 'email me at jane(at)example.com'])(
    'leaves %s',
    (text) => expect(redactText(text, only('email'))).toBe(text),
  );
});

describe('IBAN', () => {
  it.each([
    'DE89370400440532013000',
    'GB82WEST12345698765432',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'NO9386011117947',
    'BE68539007547034',
  ])('%s is mod-97 valid', (iban) => expect(isValidIban(iban)).toBe(true));

  it('redacts compact, grouped and lower-case IBANs', () => {
    expect(redactText('IBAN: DE89 3704 0044 0532 0130 00, thanks', only('iban'))).toBe('IBAN: [REDACTED:iban], thanks');
    expect(redactText('to GB82WEST12345698765432.', only('iban'))).toBe('to [REDACTED:iban].');
    expect(redactText('de89370400440532013000', only('iban'))).toBe('[REDACTED:iban]');
    expect(redactText('DE89370400440532013000 DE89370400440532013000', only('iban'))).toBe('[REDACTED:iban] [REDACTED:iban]');
    expect(redactText('DE89 3704 0044 0532 0130 00 AND MORE', only('iban'))).toBe('[REDACTED:iban] AND MORE');
  });

  it('leaves strings that fail mod-97 or the country length', () => {
    for (const text of [
      'DE88370400440532013000', // wrong check digits
      'DE8937040044053201300', // one short
      'DE893704004405320130001', // one long
      'XX89370400440532013000', // no such country
      'ORDER AB12345678901234567',
      'SKU DE12ABCDEFGHIJKLMNOPQR',
    ]) {
      expect(redactText(text, ALL)).toBe(text);
    }
  });
});

describe('card numbers', () => {
  it.each(['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '4222222222222', '6304000000000000000'])(
    '%s is Luhn valid',
    (card) => expect(luhnValid(card)).toBe(true),
  );

  it('redacts compact, spaced and dashed cards of 13 to 19 digits', () => {
    expect(redactText('card 4111 1111 1111 1111 exp 12/27', only('card'))).toBe('card [REDACTED:card] exp 12/27');
    expect(redactText('amex 3782-822463-10005.', only('card'))).toBe('amex [REDACTED:card].');
    expect(redactText('n=4222222222222;', only('card'))).toBe('n=[REDACTED:card];');
    expect(redactText('maestro 6304000000000000000', only('card'))).toBe('maestro [REDACTED:card]');
  });

  it('finds a card next to other numbers in the same run', () => {
    expect(redactText('qty 2 4111 1111 1111 1111 12', only('card'))).not.toContain('4111 1111 1111 1111');
  });

  it('leaves numbers that fail Luhn or have the wrong length', () => {
    for (const text of ['4111 1111 1111 1112', '411111111111', '41111111111111111111111', 'order 1234567890123']) {
      expect(redactText(text, only('card'))).toBe(text);
    }
  });
});

describe('phone numbers', () => {
  it.each([
    ['call +49 30 1234567 now', 'call [REDACTED:phone] now'],
    ['+4930123456', '[REDACTED:phone]'],
    ['(555) 123-4567', '[REDACTED:phone]'],
    ['+1 (555) 123-4567.', '[REDACTED:phone].'],
    ['+44 (0)20 7946 0958', '[REDACTED:phone]'],
    ['06 12 34 56 78', '[REDACTED:phone]'],
    ['555.123.4567', '[REDACTED:phone]'],
    ['555 123 4567', '[REDACTED:phone]'],
    ['tel: 0301234567.', 'tel: [REDACTED:phone].'],
    ['(0301234567)', '([REDACTED:phone])'],
    ['030/1234567', '[REDACTED:phone]'],
    ['0049 30 1234567', '[REDACTED:phone]'],
    ['call 0301234567 or 0401234567', 'call [REDACTED:phone] or [REDACTED:phone]'],
  ])('redacts %s', (text, expected) => {
    expect(redactText(text, only('phone'))).toBe(expected);
  });

  it.each([
    'total 42',
    'invoice 12345678',
    'timestamp 1700000000000',
    'on 2024-01-15',
    'on 2024-01-15T10:30:00Z',
    'on 15.01.2024 and 01/15/2024',
    'from 2024-01-01 - 2024-12-31',
    'pi 3.14159265',
    'host 192.168.100.200',
    'amount 12.345.678',
    'id INV-2024-00123456',
    'uuid 550e8400-e29b-41d4-a716-446655440000',
    'quantities 10 20 30 40 50',
    'version 1.2.3',
  ])('leaves %s', (text) => {
    expect(redactText(text, only('phone'))).toBe(text);
  });
});

describe('redactText', () => {
  it('applies only the kinds asked for', () => {
    const text = 'jane@example.com 4111111111111111';
    expect(redactText(text, only('email'))).toBe('[REDACTED:email] 4111111111111111');
    expect(redactText(text, only('card'))).toBe('jane@example.com [REDACTED:card]');
    expect(redactText(text, new Set())).toBe(text);
  });

  it('labels an IBAN as an IBAN, not as a card or phone', () => {
    expect(redactText('DE89 3704 0044 0532 0130 00', ALL)).toBe('[REDACTED:iban]');
  });

  // Quadratic behaviour would take minutes here and hit the test timeout; speed itself is a
  // benchmark matter, never a timed assertion.
  it('finishes on long adversarial strings', () => {
    const inputs = [
      'a'.repeat(100_000),
      'a.'.repeat(50_000) + '@',
      `${'a'.repeat(50_000)}@${'b-'.repeat(25_000)}`,
      '1 '.repeat(50_000) + 'x',
      '1-'.repeat(50_000),
      `1${')'.repeat(100_000)}`,
      `(${'1('.repeat(50_000)}`,
      'DE89'.repeat(25_000),
      'DE89 '.repeat(20_000),
      '4'.repeat(100_000),
      '+1 '.repeat(30_000),
      '1 (2) 3-4.5/6 '.repeat(7_000),
    ];
    for (const input of inputs) expect(typeof redactText(input, ALL)).toBe('string');
  });

  it('handles megabyte-long runs (no regex with an unbounded repeated group, which overflows V8 at ~10 MiB)', () => {
    for (const input of ['1 '.repeat(400_000), 'a.'.repeat(400_000), `x@${'b.'.repeat(400_000)}`, '1-'.repeat(400_000)]) {
      expect(() => redactText(input, ALL)).not.toThrow();
    }
    expect(redactText(`${'1 '.repeat(300_000)}call +49 30 1234567`, ALL)).toMatch(/call \[REDACTED:phone\]$/);
  });
});
