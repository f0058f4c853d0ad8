/** Which version serves a call, and why: the rollout router's answer for one call. */
import type { ChainRow } from '../../store/schema.js';

export type Variant = 'control' | 'candidate' | 'default';

export interface Assignment {
  version: string;
  variant: Variant;
  rolloutId?: string;
  stage?: number;
  /** The key the arm was assigned on (tenant, or tenant/unit, or tenant/runId). */
  assignmentKey?: string;
  /** With fallbackToControl: the version that answers when the candidate fails. */
  fallbackVersion?: string;
}

export interface CallContext {
  tenant: string;
  environment: string;
  unit?: string;
  runId: string;
}

export interface Router {
  assign(chain: ChainRow, call: CallContext): Assignment;
}

/** Every call to the chain's current version: the routing of a chain without a rollout. */
export const currentVersionRouter: Router = {
  assign: (chain) => ({ version: chain.currentVersion!, variant: 'default' }),
};
