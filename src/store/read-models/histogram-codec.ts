/**
 * Latency histograms stored as one `numeric`: the counts c_i over the stats module's log-spaced
 * buckets (LATENCY_BUCKET_COUNT of them) are the base-10^12 digits of
 *   H = Σ c_i · 10^(12·i).
 * Why: adding two such numbers adds the histograms bucket by bucket (no digit reaches 10^12: that
 * would take a trillion runs in one bucket of one row), so
 * - the upsert merges a delta with `latency_hist = t.latency_hist + excluded.latency_hist`, one
 *   C-level numeric addition per row. The obvious int[] column needs an element-wise sum: an
 *   ARRAY[t.h[1] + excluded.h[1], ...] over 380 subscripts costs ~15 ms of executor set-up per
 *   statement and ~60 µs per row on PostgreSQL 15, unnest + array_agg five times more; both would
 *   eat most of the writer's budget at 20,000 runs/s, and a faster PL/pgSQL function would put
 *   schema outside the drizzle-generated migration. Numeric addition: ~40 µs per 1,000 rows;
 * - reads merge histograms in SQL with `sum(latency_hist)`;
 * - storage is compact: numeric drops leading and trailing zero digits, so only the span between
 *   the fastest and the slowest bucket seen is stored (~600 bytes for 100 buckets, against 1,520
 *   for a dense int[380]);
 * - subtracting exactly what was added (GDPR erasure) leaves every digit ≥ 0.
 */
import { LATENCY_BUCKET_COUNT } from '../../domain/stats/index.js';

/** Decimal digits per bucket. */
export const HISTOGRAM_DIGITS = 12;
const LIMIT = 10 ** HISTOGRAM_DIGITS;
const ZERO_CHUNK = '0'.repeat(HISTOGRAM_DIGITS);
const POW = Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => 10n ** BigInt(HISTOGRAM_DIGITS * i));

function assertCount(i: number, c: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= LATENCY_BUCKET_COUNT) throw new RangeError(`no latency bucket ${i}`);
  if (!Number.isInteger(c) || Math.abs(c) >= LIMIT) throw new RangeError(`histogram count ${c} out of range`);
}

/** The numeric literal of a histogram (or of a delta: counts may be negative). */
export function encodeHistogram(counts: ReadonlyMap<number, number> | readonly number[]): string {
  const entries: [number, number][] = Array.isArray(counts)
    ? (counts as readonly number[]).map((c, i) => [i, c ?? 0] as [number, number])
    : [...(counts as ReadonlyMap<number, number>)];
  let max = -1;
  let sign = 0;
  let mixed = false;
  const at = new Map<number, number>();
  for (const [i, c] of entries) {
    assertCount(i, c);
    if (c === 0) continue;
    at.set(i, (at.get(i) ?? 0) + c);
  }
  for (const [i, c] of at) {
    if (c === 0) continue;
    max = Math.max(max, i);
    const s = Math.sign(c);
    if (sign !== 0 && s !== sign) mixed = true;
    sign = s;
  }
  if (max < 0) return '0';
  if (mixed) {
    let v = 0n;
    for (const [i, c] of at) v += BigInt(c) * POW[i]!;
    return v.toString();
  }
  let min = max;
  for (const [i, c] of at) if (c !== 0 && i < min) min = i;
  let digits = String(Math.abs(at.get(max)!));
  for (let i = max - 1; i >= min; i--) {
    const c = at.get(i);
    digits += c ? String(Math.abs(c)).padStart(HISTOGRAM_DIGITS, '0') : ZERO_CHUNK;
  }
  return (sign < 0 ? '-' : '') + digits + '0'.repeat(HISTOGRAM_DIGITS * min);
}

/** A packed (not holey) array of zeros: sums over it stay on V8's fast path. */
function zeros(): number[] {
  const out: number[] = [];
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) out.push(0);
  return out;
}

/**
 * Dense counts (LATENCY_BUCKET_COUNT long) from the numeric, read either as its text or, cheaper,
 * as `numeric_send(...)` bytes (PostgreSQL's binary numeric: int16 ndigits, int16 weight, uint16
 * sign, uint16 dscale, then base-10000 digits, most significant first, digit k worth
 * 10000^(weight − k)). With 12 decimal digits per bucket, bucket i is the base-10000 digits of
 * exponents 3i to 3i + 2. The binary form carries only the significant digits, where the text
 * spells out every zero of the buckets below the fastest one seen.
 * A negative value cannot come from adding runs; it reads as empty rather than as garbage.
 */
export function decodeHistogram(value: string | Uint8Array | null | undefined): number[] {
  if (value instanceof Uint8Array) return decodeBinary(value);
  const out = zeros();
  if (!value) return out;
  let s = value.trim();
  if (s.startsWith('\\x')) return decodeBinary(Buffer.from(s.slice(2), 'hex'));
  if (s.startsWith('-')) return out;
  const dot = s.indexOf('.');
  if (dot >= 0) s = s.slice(0, dot);
  for (let i = 0, end = s.length; end > 0 && i < LATENCY_BUCKET_COUNT; i++, end -= HISTOGRAM_DIGITS) {
    out[i] = Number(s.slice(Math.max(0, end - HISTOGRAM_DIGITS), end));
  }
  return out;
}

const GROUP_SCALE = [1, 10_000, 100_000_000];

function decodeBinary(bytes: Uint8Array): number[] {
  const out = zeros();
  if (bytes.byteLength < 8) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ndigits = view.getInt16(0);
  const weight = view.getInt16(2);
  if (view.getUint16(4) !== 0) return out; // negative, or NaN
  for (let k = 0; k < ndigits && 8 + 2 * k + 1 < bytes.byteLength; k++) {
    const e = weight - k;
    if (e < 0) break; // a fractional part: never written
    const d = view.getInt16(8 + 2 * k);
    const bucket = Math.floor(e / 3);
    if (d === 0 || bucket >= LATENCY_BUCKET_COUNT) continue;
    out[bucket]! += d * GROUP_SCALE[e % 3]!;
  }
  return out;
}
