/**
 * Detectors for personal data inside free text: e-mail addresses, phone numbers, IBANs and
 * payment card numbers. Each finds spans; `redactText` replaces them with `[REDACTED:<kind>]`.
 *
 * Precision matters as much as recall: a redacted field is stored as a placeholder, so a false
 * hit destroys data the dashboard shows. Hence IBANs must pass the ISO 13616 mod-97 check and
 * have their country's length, card numbers must pass the Luhn check, and phone numbers are
 * recognised by shape with dates, decimals, IP addresses and bare integers excluded.
 *
 * Every scan here is linear: character classes do not overlap where a quantified group could
 * split a run two ways, repeated groups are bounded (an unbounded one overflows V8's backtracking
 * stack on a multi-megabyte string), and lookbehinds keep matches from starting inside a word.
 * Cards and phones are in pii-digits.ts.
 */
import { findCards, findPhones } from './pii-digits.js';

export { findCards, findPhones, luhnValid } from './pii-digits.js';

export const PII_KINDS = ['email', 'phone', 'iban', 'card'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export function placeholder(kind: string): string {
  return `[REDACTED:${kind}]`;
}

export interface Span {
  start: number;
  end: number;
}

/**
 * Order matters: e-mail first (its local part may hold digits), then IBAN (its digits would
 * otherwise be read as a card), card (a 15-digit card would otherwise be read as a phone), phone.
 */
const ORDER: readonly PiiKind[] = ['email', 'iban', 'card', 'phone'];

const FINDERS: Record<PiiKind, (text: string) => Span[]> = {
  email: findEmails,
  iban: findIbans,
  card: findCards,
  phone: findPhones,
};

/** `text` with every match of the given kinds replaced; the same string when nothing matched. */
export function redactText(text: string, kinds: ReadonlySet<PiiKind>): string {
  let current = text;
  for (const kind of ORDER) {
    if (!kinds.has(kind)) continue;
    // Every kind but e-mail needs digits; most strings in a record have none.
    if (kind !== 'email' && !/\d/.test(current)) continue;
    const spans = FINDERS[kind](current);
    if (spans.length > 0) current = replaceSpans(current, spans, placeholder(kind));
  }
  return current;
}

function replaceSpans(text: string, spans: Span[], replacement: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const span of spans) {
    parts.push(text.slice(at, span.start), replacement);
    at = span.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// E-mail: RFC 5322 dot-atom local part (no quoted strings) @ a domain of LDH labels ending in an
// alphabetic or punycode TLD. Unicode letters are allowed (RFC 6531). Quantifiers are bounded
// (atoms of 64, RFC 5321's local-part limit; eight labels), because an unbounded repeated group
// overflows V8's backtracking stack on a multi-megabyte string.

const ATEXT = "\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-";
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const EMAIL_RE = new RegExp(
  `(?<![.${ATEXT}])[${ATEXT}]{1,64}(?:\\.[${ATEXT}]{1,64}){0,31}@(?:${LABEL}\\.){1,8}(?:\\p{L}{2,63}|xn--[a-z0-9-]{1,59})(?![\\p{L}\\p{N}-])`,
  'gu',
);

export function findEmails(text: string): Span[] {
  if (!text.includes('@')) return [];
  return [...text.matchAll(EMAIL_RE)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

// ---------------------------------------------------------------------------------------------
// IBAN (ISO 13616): country code, two check digits, BBAN. Printed either compact or in groups of
// four separated by single spaces. Lengths per country from the SWIFT IBAN registry (and the
// countries that use IBANs without being in it); an unknown country is not an IBAN.

const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AO: 25,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BF: 28,
  BG: 22,
  BH: 22,
  BI: 27,
  BJ: 28,
  BR: 29,
  BY: 28,
  CF: 27,
  CG: 27,
  CH: 21,
  CI: 28,
  CM: 27,
  CR: 22,
  CV: 25,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  DZ: 26,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GA: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GQ: 27,
  GR: 27,
  GT: 28,
  GW: 25,
  HN: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IR: 26,
  IS: 26,
  IT: 27,
  JO: 30,
  KM: 27,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MA: 28,
  MC: 27,
  MD: 24,
  ME: 22,
  MG: 27,
  MK: 19,
  ML: 28,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  MZ: 25,
  NE: 28,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SN: 28,
  SO: 23,
  ST: 25,
  SV: 28,
  TD: 27,
  TG: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** A candidate start: country code and check digits at a word start, then up to 32 more chars. */
const IBAN_CANDIDATE_RE = /(?<![\p{L}\p{N}])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,32}/gu;

export function findIbans(text: string): Span[] {
  const spans: Span[] = [];
  // exec with lastIndex, not matchAll: the candidate is greedy and may run into a second IBAN
  // printed right after the first, which must still be found.
  const candidates = new RegExp(IBAN_CANDIDATE_RE.source, IBAN_CANDIDATE_RE.flags);
  let match: RegExpExecArray | null;
  while ((match = candidates.exec(text)) !== null) {
    const start = match.index;
    const end = ibanEnd(text, start, IBAN_LENGTHS[match[0].slice(0, 2).toUpperCase()]);
    if (end >= 0) {
      spans.push({ start, end });
      candidates.lastIndex = end;
    } else {
      candidates.lastIndex = start + 1;
    }
  }
  return spans;
}

/** Where a valid IBAN of `length` characters starting at `start` ends, or -1. */
function ibanEnd(text: string, start: number, length: number | undefined): number {
  if (length === undefined) return -1;
  let compact = '';
  let end = start;
  while (end < text.length && compact.length < length) {
    const ch = text[end]!;
    if (/[A-Za-z0-9]/.test(ch)) compact += ch;
    // One space between characters (the printed groups of four); anything else ends the IBAN.
    else if (ch !== ' ' || !/[A-Za-z0-9]/.test(text[end + 1] ?? '')) break;
    end++;
  }
  // The next character must not continue the word: a longer token is not this IBAN.
  if (compact.length !== length || /[\p{L}\p{N}]/u.test(text[end] ?? '')) return -1;
  return isValidIban(compact) ? end : -1;
}

/** ISO 13616 / ISO 7064 mod 97-10: rotate the first four characters to the end, letters to 10..35. */
export function isValidIban(compact: string): boolean {
  const iban = compact.toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const rotated = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rotated) {
    const code = ch.charCodeAt(0);
    // Digits add one decimal place, letters (A=10 .. Z=35) two.
    remainder = code <= 57 ? (remainder * 10 + (code - 48)) % 97 : (remainder * 100 + (code - 55)) % 97;
  }
  return remainder === 1;
}
