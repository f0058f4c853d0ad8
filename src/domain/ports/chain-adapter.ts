/**
 * The ChainAdapter port: runs one chain version for one input.
 * Adapters throw UpstreamError (src/domain/model/errors.ts) for failures and timeouts;
 * anything else they throw is treated as an upstream failure too.
 */
export interface ChainUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

export interface ChainResult {
  output: unknown;
  usage?: ChainUsage;
  /** Time spent waiting on the upstream, ms (for Server-Timing). */
  upstreamMs: number;
}

export interface ChainAdapter {
  invoke(input: unknown, signal?: AbortSignal): Promise<ChainResult>;
  close?(): Promise<void>;
}
