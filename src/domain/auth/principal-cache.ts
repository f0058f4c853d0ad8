/**
 * Principals of recently seen bearer tokens, so a token already checked costs one SHA-256
 * (`crypto.hash`, one call, no Hmac object) and a Map lookup instead of an HMAC under the server
 * secret and two Buffers for the constant-time compare (README "Performance").
 *
 * Keyed by the SHA-256 of the token, never the token: a heap dump shows digests of 256-bit random
 * keys, which lead back to nothing. Only tokens that authenticated are kept (an unknown token
 * is checked in full every time, so guessing fills nothing), at most `maxEntries` of them, the
 * oldest dropped first. The catalog empties it whenever its key set may have lost a key: a
 * revocation on this replica at once, other replicas' revocations with the catalog refresh that
 * brings them (src/domain/services/catalog.ts).
 *
 * The lookup is not constant-time, and need not be: what it compares is a digest an attacker
 * cannot steer toward a stored one without a preimage of SHA-256.
 */
import { hash } from 'node:crypto';
import type { Principal } from './principal.js';

/** What the cache is keyed by: the token's SHA-256, base64url. */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'base64url');
}

export class PrincipalCache {
  private readonly byDigest = new Map<string, Principal>();

  constructor(private readonly maxEntries = 10_000) {}

  get(digest: string): Principal | undefined {
    return this.byDigest.get(digest);
  }

  /** Keeps a principal that just authenticated; it is frozen, since every request shares it. */
  set(digest: string, principal: Principal): Principal {
    if (this.byDigest.size >= this.maxEntries) this.byDigest.delete(this.byDigest.keys().next().value!);
    const frozen = Object.freeze(principal);
    this.byDigest.set(digest, frozen);
    return frozen;
  }

  clear(): void {
    this.byDigest.clear();
  }

  get size(): number {
    return this.byDigest.size;
  }
}
