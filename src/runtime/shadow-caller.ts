/**
 * How the shadow dispatcher calls a candidate (README "Shadow runs"): one call of one version for
 * one input, under a deadline. The gateway runs these calls in a worker thread of their own
 * (shadow-thread/thread-shadow-caller.ts), so that their upstream I/O, reply parsing and garbage
 * stay off the event loop and heap that answer customers; `InProcessShadowCaller` runs them on
 * the calling thread, through a registry it is given.
 *
 * Failures reject with a DomainError (an UpstreamError from the adapter, its code, message and
 * details intact) or, for anything else, a plain Error; the dispatcher records either as the
 * shadow run's error.
 */
import type { AdapterDefinition } from '../adapters/adapter-definition.js';
import type { AdapterRegistry } from '../adapters/adapter-registry.js';
import type { ChainResult } from '../domain/ports/chain-adapter.js';

export interface ShadowCaller {
  call(chain: string, version: string, def: AdapterDefinition, input: unknown, timeoutMs: number): Promise<ChainResult>;
  /** Lets calls in flight finish within the adapters' close grace, then cuts them off (they reject). */
  close(): Promise<void>;
}

/** Shadow calls on this thread, through the shadow's own registry (separate pools and breakers). */
export class InProcessShadowCaller implements ShadowCaller {
  constructor(private readonly adapters: Pick<AdapterRegistry, 'get' | 'closeAll'>) {}

  call(chain: string, version: string, def: AdapterDefinition, input: unknown, timeoutMs: number): Promise<ChainResult> {
    return this.adapters.get(chain, version, def).invoke(input, AbortSignal.timeout(timeoutMs));
  }

  close(): Promise<void> {
    return this.adapters.closeAll();
  }
}
