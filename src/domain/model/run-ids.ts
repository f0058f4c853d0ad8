/**
 * Run ids are UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then randomness. The time in
 * the id lets feedback tell a run that may still be on its way from another replica (answered a
 * moment ago, not yet written) from an id that names no run, without asking anyone: only the
 * first is worth waiting for (README "Several replicas").
 */
import { randomBytes } from 'node:crypto';

/** A new run id for a run created at `nowMs`. */
export function newRunId(nowMs: number): string {
  const b = randomBytes(16);
  const ms = Math.max(0, Math.floor(nowMs));
  // 48-bit big-endian milliseconds (split: bit operations in JS are 32-bit).
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The creation time in a UUIDv7 run id, in Unix milliseconds; undefined for any other id. */
export function runIdTime(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
