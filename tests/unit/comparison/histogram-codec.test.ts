import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, HISTOGRAM_DIGITS } from '../../../src/store/read-models/histogram-codec.js';
import { LATENCY_BUCKET_COUNT } from '../../../src/domain/stats/index.js';

const dense = (entries: [number, number][]) => {
  const h = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const [i, c] of entries) h[i] = c;
  return h;
};

describe('latency histograms as numerics', () => {
  it('round-trips counts over every bucket', () => {
    const h = dense([
      [0, 1],
      [17, 999_999_999_999],
      [200, 42],
      [LATENCY_BUCKET_COUNT - 1, 3],
    ]);
    expect(decodeHistogram(encodeHistogram(h))).toEqual(h);
    expect(decodeHistogram(encodeHistogram(new Map([[5, 2]])))).toEqual(dense([[5, 2]]));
    expect(encodeHistogram([])).toBe('0');
    expect(decodeHistogram('0')).toEqual(dense([]));
    expect(decodeHistogram(null)).toEqual(dense([]));
  });

  it('adds histograms by adding numbers, deltas of either sign included', () => {
    const a = new Map([
      [3, 5],
      [150, 7],
    ]);
    const b = new Map([
      [3, 1],
      [151, 2],
    ]);
    const sum = BigInt(encodeHistogram(a)) + BigInt(encodeHistogram(b));
    expect(decodeHistogram(sum.toString())).toEqual(
      dense([
        [3, 6],
        [150, 7],
        [151, 2],
      ]),
    );
    const minus = sum + BigInt(encodeHistogram(new Map([[150, -7]])));
    expect(decodeHistogram(minus.toString())).toEqual(
      dense([
        [3, 6],
        [151, 2],
      ]),
    );
    // Mixed signs (never produced by the read model, but well defined).
    expect(
      BigInt(
        encodeHistogram(
          new Map([
            [1, 1],
            [0, -1],
          ]),
        ),
      ),
    ).toBe(10n ** BigInt(HISTOGRAM_DIGITS) - 1n);
  });

  it('refuses what it cannot represent and reads a negative total as empty', () => {
    expect(() => encodeHistogram(new Map([[LATENCY_BUCKET_COUNT, 1]]))).toThrow(RangeError);
    expect(() => encodeHistogram(new Map([[1, 10 ** HISTOGRAM_DIGITS]]))).toThrow(RangeError);
    expect(() => encodeHistogram(new Map([[1, 0.5]]))).toThrow(RangeError);
    expect(decodeHistogram('-5')).toEqual(dense([]));
    expect(decodeHistogram('7.000')).toEqual(dense([[0, 7]]));
  });

  it("reads PostgreSQL's binary numeric (numeric_send) the same as the text", () => {
    // What numeric_send(12345678901234567) returns on PostgreSQL 15 and PGlite.
    const sent = Uint8Array.from([0, 5, 0, 4, 0, 0, 0, 0, 0, 1, 0x09, 0x29, 0x1a, 0x85, 0, 0x7b, 0x11, 0xd7]);
    expect(decodeHistogram(sent)).toEqual(decodeHistogram('12345678901234567'));
    expect(decodeHistogram(sent).slice(0, 2)).toEqual([678_901_234_567, 12_345]);
    expect(decodeHistogram(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]))).toEqual(dense([])); // zero
    expect(decodeHistogram(Uint8Array.from([0, 1, 0, 0, 0x40, 0, 0, 0, 0, 5]))).toEqual(dense([])); // negative
    expect(decodeHistogram('\\x0005000400000000000109291a85007b11d7')).toEqual(decodeHistogram(sent));
    // Round trip through a binary encoding of random histograms.
    for (let trial = 0; trial < 50; trial++) {
      const h = dense(
        Array.from(
          { length: 20 },
          () => [Math.floor(Math.random() * LATENCY_BUCKET_COUNT), Math.floor(Math.random() * 1e6)] as [number, number],
        ),
      );
      expect(decodeHistogram(numericSend(encodeHistogram(h)))).toEqual(h);
    }
  });
});

/** PostgreSQL's numeric_send of a non-negative integer literal. */
function numericSend(decimal: string): Uint8Array {
  const groups: number[] = [];
  for (let end = decimal.length; end > 0; end -= 4) groups.unshift(Number(decimal.slice(Math.max(0, end - 4), end)));
  while (groups.length > 1 && groups[0] === 0) groups.shift();
  const weight = groups.length - 1;
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop(); // trailing zero groups are not sent
  const out = new DataView(new ArrayBuffer(8 + 2 * groups.length));
  out.setInt16(0, groups.length);
  out.setInt16(2, groups.length === 0 ? 0 : weight);
  groups.forEach((g, k) => out.setInt16(8 + 2 * k, g));
  return new Uint8Array(out.buffer);
}
