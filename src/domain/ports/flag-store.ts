/**
 * The FlagStore port: where a rollout's flag lives and how a call is assigned an arm.
 * Two adapters implement it: Unleash (unleash-client for evaluation, the Admin API for writes)
 * and an embedded store (definitions in our database, evaluated by unleash-client's own engine),
 * so a tenant gets the same variant from either for the same definition.
 */

export type SplitBy = 'tenant' | 'unit';

/** One active stage of a rollout, as the flag needs it. */
export interface FlagStage {
  environments: string[];
  /** Omitted: every tenant. */
  tenants?: string[];
  excludeTenants?: string[];
  /** Share of matching traffic that gets the candidate, 0..100. */
  percent: number;
  splitBy: SplitBy;
}

/** The whole definition of one rollout's flag. Stages are the active ones (0..k), in rollout order. */
export interface RolloutFlag {
  name: string;
  /** false while paused or after rollback: every call evaluates to 'disabled'. */
  enabled: boolean;
  stages: FlagStage[];
}

/**
 * Evaluation context. Both stickiness keys are always present so the Unleash client never
 * seeds a missing stickiness field at random (unleash-client src/variant.ts getSeed).
 */
export interface FlagContext {
  tenant: string;
  environment: string;
  /** `${tenant}/${unit}`, or `${tenant}/${runId}` when the caller sent no unit. */
  unitKey: string;
}

export type FlagVariant = 'control' | 'candidate' | 'disabled';

export interface FlagStoreStatus {
  /** Has definitions to route on (fetched, from backup, or embedded). */
  ready: boolean;
  /** Routing on last known definitions because the source is unreachable. */
  degraded: boolean;
  detail?: string;
}

export interface FlagStore {
  readonly kind: 'unleash' | 'embedded';
  start(): Promise<void>;
  /** Creates or replaces the flag; this replica routes on the new definition once it resolves. */
  put(flag: RolloutFlag): Promise<void>;
  /** Retires the flag (after promotion): it evaluates to 'disabled' from then on. */
  retire(name: string): Promise<void>;
  /** Local, synchronous evaluation on the hot path. Unknown or switched-off flags are 'disabled'. */
  evaluate(name: string, ctx: FlagContext): FlagVariant;
  status(): FlagStoreStatus;
  close(): Promise<void>;
}
