/**
 * The digit-based PII detectors: payment card numbers and phone numbers.
 *
 * Both look at groups of digits and pick the leftmost-longest acceptable window of neighbouring
 * groups, so a number beside other numbers ("qty 2 4111 1111 1111 1111 12/27") is still found.
 * A window is short (at most 19 digits), so groups are produced lazily and only the last few are
 * kept (`Lookahead`): a 10 MiB string of "1 1 1 ..." is one run of five million groups, and
 * materialising it, or matching it with a repeated regex group (which overflows V8's backtracking
 * stack), is what an attacker would aim at.
 */
import type { Span } from './pii-patterns.js';

/** Items produced on demand, of which only the most recent `size` are kept. */
class Lookahead<T> {
  private readonly ring: Array<T | undefined>;
  private produced = 0;
  private done = false;

  constructor(
    private readonly next: () => T | undefined,
    private readonly size = 64,
  ) {
    this.ring = new Array<T | undefined>(size);
  }

  /** Item `index`, or undefined past the end; callers never look back more than `size` items. */
  get(index: number): T | undefined {
    while (!this.done && this.produced <= index) {
      const item = this.next();
      if (item === undefined) this.done = true;
      else this.ring[this.produced++ % this.size] = item;
    }
    return index < this.produced ? this.ring[index % this.size] : undefined;
  }
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

// ---------------------------------------------------------------------------------------------
// Payment cards (ISO/IEC 7812): 13 to 19 digits, compact or grouped with single spaces or dashes,
// with a valid Luhn check digit.

interface DigitGroup {
  start: number;
  end: number;
  /** Follows the previous group after exactly one space or dash, so a card may span both. */
  joined: boolean;
}

export function findCards(text: string): Span[] {
  const spans: Span[] = [];
  let at = 0;
  let previousEnd = -2;
  const groups = new Lookahead<DigitGroup>(() => {
    while (at < text.length && !isDigitCode(text.charCodeAt(at))) at++;
    if (at >= text.length) return undefined;
    const start = at;
    while (at < text.length && isDigitCode(text.charCodeAt(at))) at++;
    const sep = text[start - 1];
    const joined = start === previousEnd + 1 && (sep === ' ' || sep === '-');
    previousEnd = at;
    return { start, end: at, joined };
  });
  for (let i = 0, first = groups.get(0); first !== undefined; first = groups.get(++i)) {
    let best: DigitGroup | undefined;
    let bestIndex = i;
    let count = 0;
    // Luhn sums of the window so far with its last digit undoubled (plain) and doubled: appending
    // a digit d makes plain' = d + doubled and doubled' = 2d (digits summed) + plain, so each
    // window costs only its new digits.
    let plain = 0;
    let doubled = 0;
    for (let j = i; ; j++) {
      const group = groups.get(j);
      if (group === undefined || (j > i && !group.joined)) break;
      count += group.end - group.start;
      if (count > 19) break;
      for (let k = group.start; k < group.end; k++) {
        const d = text.charCodeAt(k) - 48;
        const nextPlain = d + doubled;
        doubled = (d * 2 > 9 ? d * 2 - 9 : d * 2) + plain;
        plain = nextPlain;
      }
      if (count >= 13 && plain % 10 === 0) {
        best = group;
        bestIndex = j;
      }
    }
    if (best !== undefined) {
      spans.push({ start: first.start, end: best.end });
      i = bestIndex;
    }
  }
  return spans;
}

/** Luhn over the digits of text[from, to), skipping separators. */
function luhnRange(text: string, from: number, to: number): boolean {
  let sum = 0;
  let double = false;
  for (let k = to - 1; k >= from; k--) {
    const code = text.charCodeAt(k);
    if (!isDigitCode(code)) continue;
    let d = code - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Luhn (mod 10) check, ISO/IEC 7812-1 annex B. */
export function luhnValid(digits: string): boolean {
  return /^\d+$/.test(digits) && luhnRange(digits, 0, digits.length);
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
  start: number;
  end: number;
  /** A date, decimal, IP address or non-number token cannot be part of a phone number. */
  usable: boolean;
  text: string;
  digits: number;
  /** Lengths of the digit groups, in order ("123-4567" -> 3, 4). */
  groups: number[];
}

export function findPhones(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(PHONE_RUN_RE)) {
    const runStart = match.index;
    const runEnd = runStart + match[0].length;
    let at = runStart;
    const tokens = new Lookahead<Token>(() => {
      if (at > runEnd) return undefined;
      // A single space joins tokens of one number; two spaces (an empty token) separate numbers.
      let end = at;
      while (end < runEnd && text.charCodeAt(end) !== 32) end++;
      const token = makeToken(text, at, end);
      at = end + 1;
      return token;
    });
    const shape: number[] = [];
    for (let i = 0, first = tokens.get(0); first !== undefined; first = tokens.get(++i)) {
      let best: Token | undefined;
      let bestIndex = i;
      let digits = 0;
      let paren = false;
      shape.length = 0;
      for (let j = i; ; j++) {
        const token = tokens.get(j);
        if (token === undefined || !token.usable) break;
        digits += token.digits;
        if (digits > 15) break;
        paren ||= token.text.includes('(');
        if (shape.length < 5) shape.push(...token.groups);
        if (digits >= 8 && looksLikePhone(first, i === j, paren, shape)) {
          best = token;
          bestIndex = j;
        }
      }
      if (best !== undefined) {
        spans.push({ start: first.start, end: best.end });
        i = bestIndex;
      }
    }
  }
  return spans;
}

function makeToken(text: string, from: number, to: number): Token {
  const unusable = { start: from, end: to, usable: false, text: '', digits: 0, groups: [] };
  if (to - from > MAX_PHONE_TOKEN || to === from) return unusable;
  const raw = text.slice(from, to);
  const { start, end } = trimToken(raw);
  const tokenText = raw.slice(start, end);
  if (!usableToken(tokenText)) return unusable;
  const groups = (tokenText.match(/\d+/g) ?? []).map((g) => g.length);
  return {
    start: from + start,
    end: from + end,
    usable: true,
    text: tokenText,
    digits: groups.reduce((a, b) => a + b, 0),
    groups,
  };
}

/**
 * Drops punctuation that belongs to the sentence, not the number: a trailing "." or "-",
 * parentheses without their partner ("(call 0301234567)"), and parentheses around the whole
 * number ("(0301234567)").
 */
function trimToken(raw: string): { start: number; end: number } {
  let start = 0;
  let end = raw.length;
  let open = 0;
  let close = 0;
  for (let k = 0; k < raw.length; k++) {
    if (raw[k] === '(') open++;
    else if (raw[k] === ')') close++;
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
  if (text.length === 0 || !PHONE_TOKEN_RE.test(text)) return false;
  return !DATE_RE.test(text) && !IPV4_RE.test(text) && !DECIMAL_RE.test(text) && !DOTTED_THOUSANDS_RE.test(text);
}

/**
 * Digits are ids, amounts, timestamps, years ("2024-0042") and lists of quantities far more often
 * than phone numbers, so a candidate must carry a phone's marks: the international "+", an area
 * code in parentheses, a national trunk prefix "0" (with at least ten digits when written as one
 * block, which an 8-digit date like 01022024 is not), or the NANP grouping (1) 555 123 4567.
 */
function looksLikePhone(first: Token, alone: boolean, paren: boolean, shape: readonly number[]): boolean {
  if (first.text.startsWith('+') || paren) return true;
  if (first.text.startsWith('0')) return !alone || first.groups.length > 1 || first.digits >= 10;
  const nanp = shape.length === 4 && shape[0] === 1 && first.text.startsWith('1') ? shape.slice(1) : shape;
  return nanp.length === 3 && nanp[0] === 3 && nanp[1] === 3 && nanp[2] === 4;
}
