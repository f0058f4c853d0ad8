/**
 * A rollout as the domain holds it: its validated spec (typed, never a loose JSON), its status and
 * its latest active stage; and the entries of its audit log.
 */
import { z } from 'zod';
import type { RolloutSpec } from './rollout-spec.js';

export const rolloutStatusSchema = z.enum(['running', 'paused', 'rolled_back', 'promoted']);
export type RolloutStatus = z.infer<typeof rolloutStatusSchema>;

/** A running or paused rollout routes its chain; at most one per chain (the database enforces it too). */
export const ACTIVE_STATUSES = ['running', 'paused'] as const satisfies readonly RolloutStatus[];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

export function isActive(status: RolloutStatus): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly RolloutStatus[]).includes(status);
}

export interface Rollout {
  id: string;
  chainId: string;
  control: string;
  candidate: string;
  status: RolloutStatus;
  /** Index of the latest active stage; stages 0..stage are active. */
  stage: number;
  /** The flag's name in the flag store. */
  flag: string;
  /** The validated creation body (stages, guardrails, alphas, autoAdvance, fallback, webhook). */
  spec: RolloutSpec;
  stageStartedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** One entry of a rollout's audit log (created, advanced, guardrail_breached, webhook_failed...). */
export interface RolloutEvent {
  id: number;
  rolloutId: string;
  at: Date;
  type: string;
  actor: string;
  reason: string | null;
  data: Record<string, unknown> | null;
}

/** An audit entry to append (the store numbers it). */
export interface NewRolloutEvent {
  at: Date;
  type: string;
  actor: string;
  reason?: string;
  data?: Record<string, unknown>;
}
