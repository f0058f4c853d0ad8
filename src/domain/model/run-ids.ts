/**
 * Run ids are UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then randomness. The time in
 * the id lets feedback tell a run that may still be on its way from another replica (answered a
 * moment ago, not yet written) from an id that names no run, without asking anyone: only the
 * first is worth waiting for (README "Several replicas").
 */
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for the ids, drawn from the CSPRNG 4 KiB at a time (as Node's own randomUUID does)
 * rather than a Buffer per id; each byte is used once.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A new run id for a run created at `nowMs`. */
export function newRunId(nowMs: number): string {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += 10;
  // 48-bit big-endian milliseconds (split: bit operations in JS are 32-bit), then 74 random bits.
  const ms = Math.max(0, Math.floor(nowMs));
  const hi = Math.floor(ms / 0x1000000) % 0x1000000;
  const lo = ms % 0x1000000;
  return (
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[(pool[r]! & 0x0f) | 0x70]! + // version 7
    HEX[pool[r + 1]!]! +
    '-' +
    HEX[(pool[r + 2]! & 0x3f) | 0x80]! + // variant 10
    HEX[pool[r + 3]!]! +
    '-' +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]! +
    HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  );
}

/** The creation time in a UUIDv7 run id, in Unix milliseconds; undefined for any other id. */
export function runIdTime(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
