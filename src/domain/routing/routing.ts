/** Which version serves a call, and why: the rollout router's answer for one call. */
import type { Chain } from '../model/catalog.js';
import type { Variant } from '../model/run.js';

export type { Variant } from '../model/run.js';

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
  assign(chain: Chain, call: CallContext): Assignment;
}
