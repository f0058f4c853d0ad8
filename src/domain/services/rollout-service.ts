/**
 * Rollout lifecycle: create, advance, pause, resume, promote, rollback. Each action changes the
 * database (conditionally, so replicas and the guardrail job never act twice), this replica's
 * routing at once (read your writes), and the flag store, and appends to the audit log.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BadRequestError, ConflictError, DuplicateError, NotFoundError } from '../model/errors.js';
import type { DomainEvents } from '../model/events.js';
import type { NewRolloutEvent, Rollout, RolloutEvent, RolloutStatus } from '../model/rollout.js';
import type { RolloutSpec } from '../model/rollout-spec.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { FlagStore } from '../ports/flag-store.js';
import type { RolloutRepository } from '../ports/rollout-repository.js';
import type { ActiveRollouts } from '../routing/active-rollouts.js';
import { flagName, toFlag } from '../routing/rollout-flag.js';
import { holdsEveryStage, stageGateOpen } from '../shadow/stage-gate.js';
import type { Catalog } from './catalog.js';

export type RolloutAction = 'advance' | 'pause' | 'resume' | 'promote' | 'rollback';

export interface RolloutServiceDeps {
  store: RolloutRepository;
  flags: FlagStore;
  catalog: Pick<Catalog, 'requireChain' | 'requireEnvironment' | 'requireTenants' | 'version' | 'setCurrentLocally'>;
  /** This replica's active rollouts, which this service keeps in step. */
  active: ActiveRollouts;
  /** RolloutChanged for every audit event (webhooks, metrics). */
  events: EventPublisher<Pick<DomainEvents, 'RolloutChanged'>>;
  log: Logger;
  now: () => Date;
}

const EVENT_OF: Record<RolloutAction, string> = {
  advance: 'advanced',
  pause: 'paused',
  resume: 'resumed',
  promote: 'promoted',
  rollback: 'rolled_back',
};

/** The state an action leads to; repeating the action that produced the current state is a no-op. */
const TARGET: Record<Exclude<RolloutAction, 'advance'>, RolloutStatus> = {
  pause: 'paused',
  resume: 'running',
  promote: 'promoted',
  rollback: 'rolled_back',
};

export class RolloutService {
  /** Rollouts whose flag write failed (flag store away), retried by the refresh loop. */
  private readonly unsynced = new Map<string, Rollout>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: RolloutServiceDeps) {}

  /** Reads the active rollouts from the database (other replicas' actions). */
  async load(): Promise<void> {
    this.deps.active.replaceWith(await this.deps.store.listActive());
  }

  /** Follows other replicas' actions every `ms` (the catalog follows their promotions). */
  startRefresh(ms: number): void {
    this.timer = setInterval(() => {
      this.load()
        .then(() => this.retryUnsynced())
        .catch((err) => this.deps.log.warn({ err }, 'rollout refresh failed; routing on the last known rollouts'));
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async create(spec: RolloutSpec, actor: string): Promise<Rollout> {
    const { catalog } = this.deps;
    const chain = catalog.requireChain(spec.chain);
    for (const [field, version] of [
      ['control', spec.control],
      ['candidate', spec.candidate],
    ] as const) {
      if (!catalog.version(spec.chain, version))
        throw new BadRequestError(`body.${field}: version '${version}' of chain '${spec.chain}' does not exist`, { field });
    }
    if (spec.control !== chain.currentVersion) {
      throw new BadRequestError(`body.control: must be the chain's current version ('${chain.currentVersion}')`, {
        field: 'control',
        current: chain.currentVersion,
      });
    }
    if (spec.control === spec.candidate) throw new BadRequestError('body.candidate: must differ from the control', { field: 'candidate' });
    // Every environment a stage or the shadow names must be one the chain accepts: a stage for
    // "production" on a chain whose calls say "prod" would match nothing, silently.
    spec.stages.forEach((s, i) =>
      s.environments.forEach((e, j) => catalog.requireEnvironment(chain, e, `body.stages.${i}.environments.${j}`)),
    );
    spec.shadow?.environments?.forEach((e, j) => catalog.requireEnvironment(chain, e, `body.shadow.environments.${j}`));
    // Likewise a tenant id with a typo would match no call: every tenant named must exist.
    const named: [string, string[] | undefined][] = [
      ...spec.stages.flatMap((s, i): [string, string[] | undefined][] => [
        [`body.stages.${i}.tenants`, s.tenants],
        [`body.stages.${i}.excludeTenants`, s.excludeTenants],
      ]),
      ['body.shadow.tenants', spec.shadow?.tenants],
    ];
    for (const [field, ids] of named) catalog.requireTenants(ids, field);
    await this.load();
    const existing = this.deps.active.activeFor(spec.chain);
    if (existing)
      throw new ConflictError(`Chain '${spec.chain}' already has a ${existing.status} rollout (${existing.id}).`, {
        rolloutId: existing.id,
      });

    const id = randomUUID();
    const now = this.deps.now();
    const flag = flagName(spec.chain, id);
    // A gated rollout moves no traffic (its flag is off) until its gate passes.
    const status: RolloutStatus = spec.gate ? 'gated' : 'running';
    await this.deps.flags.put(toFlag(flag, spec, status, 0));
    let row: Rollout;
    try {
      row = await this.deps.store.insert(
        {
          id,
          chainId: spec.chain,
          control: spec.control,
          candidate: spec.candidate,
          status,
          stage: 0,
          flag,
          spec,
          stageStartedAt: now,
          createdAt: now,
          updatedAt: now,
        },
        {
          at: now,
          type: 'created',
          actor,
          data: { stage: 0, flag, stages: spec.stages.length, ...(spec.gate ? { status, gate: spec.gate } : {}) },
        },
      );
    } catch (err) {
      await this.deps.flags.retire(flag).catch(() => {});
      // Another replica created one between our look and our insert.
      if (err instanceof DuplicateError) throw new ConflictError(`Chain '${spec.chain}' already has a gated, running or paused rollout.`);
      throw err;
    }
    this.deps.active.apply(row);
    this.emit(row, 'created', actor, undefined, { stage: 0, flag, ...(spec.gate ? { status } : {}) }, now);
    return row;
  }

  async get(id: string): Promise<Rollout> {
    const row = await this.deps.store.get(id);
    if (!row) throw new NotFoundError('Rollout', id);
    return row;
  }

  list(): Promise<Rollout[]> {
    return this.deps.store.list();
  }

  async events(id: string): Promise<RolloutEvent[]> {
    await this.get(id);
    return this.deps.store.events(id);
  }

  /** Appends an event that is not a state change (guardrail_breached, webhook_failed). */
  async record(rollout: Rollout, type: string, actor: string, reason?: string, data?: Record<string, unknown>): Promise<void> {
    const at = this.deps.now();
    await this.deps.store.appendEvent(rollout.id, { at, type, actor, reason, data });
    this.emit(rollout, type, actor, reason, data, at);
  }

  /**
   * Applies a lifecycle action. `precededBy` is evidence recorded in the same transaction just
   * before the action's own event (the guardrail's breach), so it is written exactly once too.
   */
  async act(
    id: string,
    action: RolloutAction,
    actor: string,
    reason?: string,
    data?: Record<string, unknown>,
    precededBy?: { type: string; reason?: string; data?: Record<string, unknown> },
  ): Promise<{ rollout: Rollout; changed: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.get(id);
      const override = data?.override === true;
      const next = this.nextState(row, action, override);
      if (next === 'same') return { rollout: row, changed: false };
      if (action === 'advance' && row.status === 'running' && !override) await this.requireStageGate(row);
      const now = this.deps.now();
      // Leaving `gated` starts stage 0 now.
      const to = {
        status: next.status,
        stage: next.stage,
        updatedAt: now,
        ...(next.stage !== row.stage || row.status === 'gated' ? { stageStartedAt: now } : {}),
      };
      const before = { status: row.status, stage: row.stage };
      const eventData = { ...data, before, after: { status: next.status, stage: next.stage } };

      // Rollback and pause protect customers: this replica stops the candidate before anything else.
      if (action === 'rollback' || action === 'pause') this.deps.active.apply({ ...row, ...to });
      const events: NewRolloutEvent[] = [
        ...(precededBy ? [{ at: now, type: precededBy.type, actor, reason: precededBy.reason, data: precededBy.data }] : []),
        { at: now, type: EVENT_OF[action], actor, reason, data: eventData },
      ];
      const updated = await this.deps.store.transition(
        row,
        to,
        events,
        action === 'promote' ? { chainId: row.chainId, version: row.candidate } : undefined,
      );
      if (!updated) continue; // someone else moved it first: look again
      this.deps.active.apply(updated);
      if (action === 'promote') this.deps.catalog.setCurrentLocally(row.chainId, row.candidate, updated.updatedAt);
      await this.syncFlag(updated);
      if (precededBy) this.emit(updated, precededBy.type, actor, precededBy.reason, precededBy.data, now);
      this.emit(updated, EVENT_OF[action], actor, reason, eventData, now);
      return { rollout: updated, changed: true };
    }
    throw new ConflictError(`Rollout '${id}' kept changing while '${action}' was applied; try again.`);
  }

  /**
   * Concludes a gated rollout's gate (exactly once, whoever decides): passed starts stage 0,
   * failed is final. The figures go into the event. Undefined when the rollout is not gated.
   */
  async concludeGate(id: string, outcome: 'passed' | 'failed', figures: Record<string, unknown>): Promise<Rollout | undefined> {
    const row = await this.get(id);
    if (row.status !== 'gated') return undefined;
    const now = this.deps.now();
    const type = outcome === 'passed' ? 'gate_passed' : 'gate_failed';
    const status: RolloutStatus = outcome === 'passed' ? 'running' : 'gate_failed';
    const data = { ...figures, before: { status: row.status, stage: row.stage }, after: { status, stage: 0 } };
    const updated = await this.deps.store.transition(row, { status, stage: 0, stageStartedAt: now, updatedAt: now }, [
      { at: now, type, actor: 'gate', data },
    ]);
    if (!updated) return undefined;
    this.deps.active.apply(updated);
    await this.syncFlag(updated);
    this.emit(updated, type, 'gate', undefined, data, now);
    return updated;
  }

  /**
   * Whether the rollout may leave its current stage as far as the stage's shadow gate goes
   * (`gate.shadow.everyStage`, README "Shadow runs"): the gate job has recorded the stage's pass.
   */
  async stageGateOpen(rollout: Rollout): Promise<boolean> {
    if (!holdsEveryStage(rollout.spec)) return true;
    return stageGateOpen(rollout, await this.deps.store.events(rollout.id));
  }

  /** An advance out of a stage whose shadow gate has not passed is refused, as a gated rollout's start is. */
  private async requireStageGate(row: Rollout): Promise<void> {
    if (await this.stageGateOpen(row)) return;
    throw new ConflictError(
      `The shadow gate of stage ${row.stage} has not passed: the rollout advances when it does. Send {"override": true, "reason"} to advance without it.`,
      { status: row.status, stage: row.stage },
      'shadow_gate_pending',
    );
  }

  private nextState(row: Rollout, action: RolloutAction, override = false): { status: RolloutStatus; stage: number } | 'same' {
    const status = row.status;
    const stages = row.spec.stages.length;
    if (status === 'gate_failed')
      throw new ConflictError(`The rollout's gate failed; it cannot ${action}. Create another rollout.`, { status });
    if (status === 'gated') {
      // No traffic has moved: the gate decides, or a person overrides it (audited), or abandons the rollout.
      if (action === 'advance') {
        if (!override)
          throw new ConflictError(
            'The rollout is gated: it starts when its gate passes. Send {"override": true, "reason"} to start stage 0 without it.',
            { status },
            'gated',
          );
        return { status: 'running', stage: 0 };
      }
      if (action !== 'rollback')
        throw new ConflictError(`The rollout is gated; it cannot ${action} (advance with override, or roll it back).`, { status }, 'gated');
    }
    if (action === 'advance') {
      if (status !== 'running') throw new ConflictError(`A ${status} rollout cannot advance.`, { status });
      if (row.stage >= stages - 1)
        throw new ConflictError('The rollout is at its last stage: promote it or roll it back.', { stage: row.stage });
      return { status, stage: row.stage + 1 };
    }
    const target = TARGET[action];
    if (status === target) return 'same';
    if (status === 'rolled_back' || status === 'promoted')
      throw new ConflictError(`The rollout is ${status.replace('_', ' ')}; it cannot ${action}.`, { status });
    if (action === 'resume' && status !== 'paused') throw new ConflictError(`Only a paused rollout resumes.`, { status });
    return { status: target, stage: row.stage };
  }

  /**
   * The flag follows the rollout. A flag store that is away does not undo the action: this
   * replica already routes by it, the database holds it for the others, and the refresh loop
   * retries the flag write until it lands.
   */
  private async syncFlag(row: Rollout): Promise<void> {
    try {
      if (row.status === 'promoted') await this.deps.flags.retire(row.flag);
      else await this.deps.flags.put(toFlag(row.flag, row.spec, row.status, row.stage));
      this.unsynced.delete(row.id);
    } catch (err) {
      this.unsynced.set(row.id, row);
      this.deps.log.error({ err, rolloutId: row.id }, 'flag store not updated yet; routing here already follows the rollout; will retry');
    }
  }

  private async retryUnsynced(): Promise<void> {
    for (const row of [...this.unsynced.values()]) await this.syncFlag(row);
  }

  private emit(
    rollout: Rollout,
    type: string,
    actor: string,
    reason: string | undefined,
    data: Record<string, unknown> | undefined,
    at: Date,
  ): void {
    this.deps.events.publish('RolloutChanged', { rollout, type, actor, reason, data, at });
  }
}
