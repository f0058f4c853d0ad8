/**
 * API keys are random 256-bit values shown once and stored only as HMAC-SHA-256 under a server
 * secret: fast enough to check on every request (unlike bcrypt, which a 256-bit random key does
 * not need), and a leaked table alone does not let anyone call the gateway.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'cc_';

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export class KeyHasher {
  private readonly secret: Buffer;

  constructor(secret: string | Buffer) {
    this.secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  }

  hash(key: string): string {
    return createHmac('sha256', this.secret).update(key).digest('base64url');
  }

  /** Constant-time comparison of two hashes of the same length. */
  static equal(a: string, b: string): boolean {
    const ab = Buffer.from(a);
    const bb = Buffer.from(b);
    return ab.length === bb.length && timingSafeEqual(ab, bb);
  }

  /** A sub-key for another purpose (e.g. hashing redacted fields), so one secret serves all. */
  derive(label: string): Buffer {
    return createHmac('sha256', this.secret).update(`chain-canary:${label}`).digest();
  }
}
