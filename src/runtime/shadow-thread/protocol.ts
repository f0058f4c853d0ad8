/**
 * The messages between the gateway's thread (thread-shadow-caller.ts) and the shadow calls'
 * thread (shadow-thread-worker.ts). Everything here is structured-cloned: plain data only.
 */
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import type { AdapterRegistryOptions } from '../../adapters/adapter-registry.js';
import type { ChainUsage } from '../../domain/ports/chain-adapter.js';
import { DomainError } from '../../domain/model/errors.js';

/** The worker's adapter settings: those of the shadow's registry, the allow-list as its text. */
export interface ShadowThreadData {
  providers: AdapterRegistryOptions['providers'];
  http: NonNullable<AdapterRegistryOptions['http']>;
  /** UPSTREAM_ALLOW as `UpstreamAllowList.toString()` writes it; undefined when unset. */
  upstreamAllow: string | undefined;
}

export interface CallRequest {
  op: 'call';
  id: number;
  chain: string;
  version: string;
  /** Sent with every call: the worker's registry builds the version's adapter from it on first use. */
  def: AdapterDefinition;
  input: unknown;
  timeoutMs: number;
}

/** Close the adapters (in-flight calls get their grace), answer every call, then say `closed`. */
export interface CloseRequest {
  op: 'close';
}

export type ShadowThreadRequest = CallRequest | CloseRequest;

/** A DomainError's parts; without `code`, the failure was not one (a plain Error's message). */
export interface WireError {
  code?: string;
  statusCode?: number;
  message: string;
  details?: unknown;
}

export type CallReply =
  | { op: 'result'; id: number; ok: true; output: unknown; usage?: ChainUsage; upstreamMs: number }
  | { op: 'result'; id: number; ok: false; error: WireError };

export type ShadowThreadReply = CallReply | { op: 'closed' };

export function toWireError(err: unknown, withDetails = true): WireError {
  if (err instanceof DomainError) {
    const wire: WireError = { code: err.code, statusCode: err.statusCode, message: err.message };
    if (withDetails && err.details !== undefined) wire.details = err.details;
    return wire;
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/** The error as the dispatcher records it: a DomainError keeps its code, message and details. */
export function fromWireError(wire: WireError): Error {
  if (wire.code === undefined) return new Error(wire.message);
  return new DomainError(wire.code, wire.statusCode ?? 502, wire.message, wire.details);
}
