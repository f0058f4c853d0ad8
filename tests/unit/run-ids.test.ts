/** Run ids (src/domain/model/run-ids.ts): UUIDv7 with the creation time in them, from a pooled CSPRNG draw. */
import { describe, expect, it } from 'vitest';
import { newRunId, runIdTime } from '../../src/domain/model/run-ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('run ids', () => {
  it('are UUIDv7 carrying their millisecond, distinct across pool refills', () => {
    const t0 = Date.UTC(2026, 11, 6, 8, 30, 0, 123);
    const ids = new Set<string>();
    // 2,000 ids draw 20,000 random bytes: the 4 KiB pool is refilled several times.
    for (let i = 0; i < 2000; i++) {
      const id = newRunId(t0 + i);
      expect(id).toMatch(UUID_V7);
      expect(runIdTime(id)).toBe(t0 + i);
      ids.add(id);
    }
    expect(ids.size).toBe(2000);
    // Two ids of the same millisecond differ in their random part.
    expect(newRunId(t0)).not.toBe(newRunId(t0));
    expect(runIdTime(newRunId(0))).toBe(0);
    expect(runIdTime(newRunId(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it('spread their random bits (no byte stuck at one value)', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 500; i++) {
      const tail = newRunId(1).slice(19).replace('-', '');
      for (let c = 0; c < tail.length; c++) seen[c]!.add(tail[c]!);
    }
    // The first is the variant nibble (8, 9, a or b); every other is random.
    expect(seen[0]!.size).toBeLessThanOrEqual(4);
    for (const s of seen.slice(1)) expect(s.size).toBeGreaterThan(8);
  });
});
