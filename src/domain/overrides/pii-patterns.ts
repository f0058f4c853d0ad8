/**
 * Detectors for personal data inside free text: e-mail addresses, phone numbers, IBANs and
 * payment card numbers. Each finds spans; `redactText` replaces them with `[REDACTED:<kind>]`.
 *
 * Precision matters as much as recall: a redacted field is stored as a placeholder, so a false
 * hit destroys data the dashboard shows. Hence IBANs must pass the ISO 13616 mod-97 check and
 * have their country's length, card numbers must pass the Luhn check, and phone numbers are
 * recognised by shape with dates, decimals, IP addresses and bare integers excluded.
 *
 * Every regular expression here is linear: character classes do not overlap where a quantified
 * group could split a run two ways, and lookbehinds keep matches from starting inside a word, so
 * a 10 MiB string cannot trigger catastrophic backtracking.
 */

export const PII_KINDS = ['email', 'phone', 'iban', 'card'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export function placeholder(kind: string): string {
  return `[REDACTED:${kind}]`;
}

interface Span {
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
  AD: 24, AE: 23, AL: 28, AO: 25, AT: 20, AZ: 28, BA: 20, BE: 16, BF: 28, BG: 22, BH: 22, BI: 27,
  BJ: 28, BR: 29, BY: 28, CF: 27, CG: 27, CH: 21, CI: 28, CM: 27, CR: 22, CV: 25, CY: 28, CZ: 24,
  DE: 22, DJ: 27, DK: 18, DO: 28, DZ: 26, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27,
  GA: 27, GB: 22, GE: 22, GI: 23, GL: 18, GQ: 27, GR: 27, GT: 28, GW: 25, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IR: 26, IS: 26, IT: 27, JO: 30, KM: 27, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MA: 28, MC: 27, MD: 24, ME: 22, MG: 27, MK: 19, ML: 28,
  MN: 20, MR: 27, MT: 31, MU: 30, MZ: 25, NE: 28, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24,
  SM: 27, SN: 28, SO: 23, ST: 25, SV: 28, TD: 27, TG: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20, YE: 30,
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

// ---------------------------------------------------------------------------------------------
// Payment cards (ISO/IEC 7812): 13 to 19 digits, compact or grouped with single spaces or dashes,
// with a valid Luhn check digit.

export function findCards(text: string): Span[] {
  const spans: Span[] = [];
  for (const run of digitRuns(text)) {
    // The run's digits as numbers, and each group as a range of them (no string building: this
    // loop sees every digit of a 10 MiB body).
    const digits: number[] = [];
    const groups: Array<{ start: number; end: number; from: number; to: number }> = [];
    for (let k = run.start; k < run.end; k++) {
      const code = text.charCodeAt(k);
      if (!isDigitCode(code)) continue;
      if (k === run.start || !isDigitCode(text.charCodeAt(k - 1))) groups.push({ start: k, end: 0, from: digits.length, to: 0 });
      digits.push(code - 48);
      const group = groups[groups.length - 1]!;
      group.end = k + 1;
      group.to = digits.length;
    }
    // Leftmost-longest window of whole groups: a card number may sit beside other numbers in the
    // same run ("qty 2 4111 1111 1111 1111 12/27"), so every window is tried, not only the run.
    let i = 0;
    while (i < groups.length) {
      let best = -1;
      for (let j = i; j < groups.length; j++) {
        const count = groups[j]!.to - groups[i]!.from;
        if (count > 19) break;
        if (count >= 13 && luhnSum(digits, groups[i]!.from, groups[j]!.to) % 10 === 0) best = j;
      }
      if (best >= 0) {
        spans.push({ start: groups[i]!.start, end: groups[best]!.end });
        i = best + 1;
      } else {
        i++;
      }
    }
  }
  return spans;
}

/**
 * Maximal runs of digit groups joined by single spaces or dashes. Scanned by hand: the regular
 * expression /\d+(?:[ -]\d+)*\/ overflows V8's backtracking stack on a multi-megabyte run.
 */
function digitRuns(text: string): Span[] {
  const runs: Span[] = [];
  let k = 0;
  while (k < text.length) {
    if (!isDigitCode(text.charCodeAt(k))) {
      k++;
      continue;
    }
    const start = k;
    for (;;) {
      while (k < text.length && isDigitCode(text.charCodeAt(k))) k++;
      const sep = text[k];
      if ((sep === ' ' || sep === '-') && isDigitCode(text.charCodeAt(k + 1))) k++;
      else break;
    }
    runs.push({ start, end: k });
  }
  return runs;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

function luhnSum(digits: readonly number[], from: number, to: number): number {
  let sum = 0;
  let double = false;
  for (let k = to - 1; k >= from; k--) {
    let d = digits[k]!;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum;
}

/** Luhn (mod 10) check, ISO/IEC 7812-1 annex B. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers: E.164 (`+` and up to 15 digits) and national formats ("(555) 123-4567",
// "+44 (0)20 7946 0958", "06 12 34 56 78", "030/1234567"), 8 to 15 digits in all. Text is cut into
// runs of phone characters, runs into space-separated tokens, and the longest acceptable window
// of tokens is taken, so that a date or a price next to a number is not swallowed with it.

/** Not inside a word, and not after "X-" / "X." (the tail of an id like "INV-2024-00123456"). */
const PHONE_RUN_RE = /(?<![\p{L}\p{N}_+])(?<![\p{L}\p{N}][-./])\+?[\d(][\d()\-./ ]*/gu;
/** One token: digit groups joined by one of - . / or by parentheses; unambiguous, so linear. */
const PHONE_TOKEN_RE = /^\+?(?:\(\d{1,5}\)\d*|\d+)(?:[-./]?\(\d{1,5}\)\d*|[-./]\d+){0,14}$/;
const DATE_RE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;
const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const DECIMAL_RE = /^\d+\.\d+$/;
const DOTTED_THOUSANDS_RE = /^\d{1,3}(?:\.\d{3}){1,4}$/;
/** Longer than any formatted phone number (15 digits, a "+", parentheses, separators). */
const MAX_PHONE_TOKEN = 40;

interface Token {
  text: string;
  start: number;
  end: number;
  usable: boolean;
  digits: number;
  /** Lengths of the digit groups, in order ("(555) 123-4567" -> 3, 3, 4 over two tokens). */
  groups: number[];
}

export function findPhones(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(PHONE_RUN_RE)) {
    const tokens = tokenize(match[0], match.index);
    let i = 0;
    while (i < tokens.length) {
      let best = -1;
      let digitCount = 0;
      for (let j = i; j < tokens.length; j++) {
        const token = tokens[j]!;
        // A date, a decimal or a gap of two spaces ends the window: it is not part of this number.
        if (!token.usable) break;
        digitCount += token.digits;
        if (digitCount > 15) break;
        if (digitCount >= 8 && looksLikePhone(tokens, i, j)) best = j;
      }
      if (best >= 0) {
        spans.push({ start: tokens[i]!.start, end: tokens[best]!.end });
        i = best + 1;
      } else {
        i++;
      }
    }
  }
  return spans;
}

function tokenize(run: string, offset: number): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  // A single space joins tokens of one number; two spaces (an empty token) separate numbers.
  for (const raw of run.split(' ')) {
    const { start, end } = raw.length > MAX_PHONE_TOKEN ? { start: 0, end: raw.length } : trimToken(raw);
    const text = raw.slice(start, end);
    const groups = usableToken(text) ? (text.match(/\d+/g) ?? []).map((g) => g.length) : [];
    tokens.push({
      text,
      start: offset + at + start,
      end: offset + at + end,
      usable: groups.length > 0,
      digits: groups.reduce((a, b) => a + b, 0),
      groups,
    });
    at += raw.length + 1;
  }
  return tokens;
}

/**
 * Drops punctuation that belongs to the sentence, not the number: a trailing "." or "-",
 * parentheses without their partner ("(call 0301234567)"), and parentheses around the whole
 * number ("(0301234567)").
 */
function trimToken(raw: string): { start: number; end: number } {
  let start = 0;
  let end = raw.length;
  // Counted once and kept up to date: recounting per step would be quadratic on "1))))...".
  let open = 0;
  let close = 0;
  for (const c of raw) {
    if (c === '(') open++;
    else if (c === ')') close++;
  }
  while (end > start) {
    const last = raw[end - 1];
    if (last === '-' || last === '.' || last === '/' || last === '(') {
      if (last === '(') open--;
      end--;
    } else if (last === ')' && close > open) {
      close--;
      end--;
    } else if (raw[start] === '(' && open > close) {
      open--;
      start++;
    } else if (raw[start] === '(' && last === ')' && open === 1 && close === 1 && end - start - 2 > 5) {
      // "(0301234567)": the whole number in parentheses; "(555)" (five digits at most) is an area code.
      open = close = 0;
      start++;
      end--;
    } else {
      break;
    }
  }
  return { start, end };
}

function usableToken(text: string): boolean {
  if (text.length === 0 || text.length > MAX_PHONE_TOKEN || !PHONE_TOKEN_RE.test(text)) return false;
  return !DATE_RE.test(text) && !IPV4_RE.test(text) && !DECIMAL_RE.test(text) && !DOTTED_THOUSANDS_RE.test(text);
}

/**
 * Digits are ids, amounts, timestamps, years ("2024-0042") and lists of quantities far more often
 * than phone numbers, so a candidate must carry a phone's marks: the international "+", an area
 * code in parentheses, a national trunk prefix "0" (with at least ten digits when written as one
 * block, which an 8-digit date like 01022024 is not), or the NANP grouping (1) 555 123 4567.
 */
function looksLikePhone(tokens: readonly Token[], i: number, j: number): boolean {
  const first = tokens[i]!.text;
  if (first.startsWith('+')) return true;
  const window = tokens.slice(i, j + 1);
  if (window.some((t) => t.text.includes('('))) return true;
  if (first.startsWith('0')) return i !== j || first.length !== tokens[i]!.digits || first.length >= 10;
  const groups = window.flatMap((t) => t.groups);
  const nanp = groups.length === 4 && first.startsWith('1') && groups[0] === 1 ? groups.slice(1) : groups;
  return nanp.length === 3 && nanp[0] === 3 && nanp[1] === 3 && nanp[2] === 4;
}
