/**
 * Upstream chains in memory: each version answers with a function of its input (or throws an
 * UpstreamError), and every call is counted. The AdapterSource the invoke service takes.
 */
import { adapterDefinitionSchema, type AdapterDefinition } from '../../../src/adapters/adapter-definition.js';
import type { ChainAdapter, ChainResult } from '../../../src/domain/ports/chain-adapter.js';
import type { AdapterSource } from '../../../src/domain/services/invoke-service.js';

export type Behaviour = (input: unknown) => unknown;

export class InMemoryChains implements AdapterSource {
  /** Calls made, as `chain@version`. */
  readonly calls: string[] = [];
  private readonly behaviours = new Map<string, Behaviour>();

  /** What `chain@version` answers; throw from `fn` to fail the call. */
  answer(chain: string, version: string, fn: Behaviour): this {
    this.behaviours.set(`${chain}@${version}`, fn);
    return this;
  }

  get(chain: string, version: string, _def: AdapterDefinition): ChainAdapter {
    const key = `${chain}@${version}`;
    return {
      invoke: async (input: unknown): Promise<ChainResult> => {
        this.calls.push(key);
        const fn = this.behaviours.get(key);
        if (!fn) throw new Error(`no behaviour for ${key}`);
        return { output: fn(input), upstreamMs: 1, usage: { promptTokens: 3, completionTokens: 5 } };
      },
    };
  }
}

/** An adapter definition for a version registered in tests (never called: InMemoryChains answers). */
export const testAdapter = (url = 'http://127.0.0.1:9/invoke'): AdapterDefinition => adapterDefinitionSchema.parse({ type: 'http', url });
