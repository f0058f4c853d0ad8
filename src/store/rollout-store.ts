/**
 * Rollouts and their audit log in the database: the RolloutRepository port
 * (src/domain/ports/rollout-repository.ts). State changes are conditional updates, so two replicas
 * (or the guardrail job and a person) never both act on the same state.
 */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { ACTIVE_STATUSES, type NewRolloutEvent, type Rollout, type RolloutEvent } from '../domain/model/rollout.js';
import type { RolloutChange, RolloutRepository } from '../domain/ports/rollout-repository.js';
import type { Db } from './db.js';
import { duplicateAs } from './db-errors.js';
import { chains, rolloutEvents, rollouts } from './schema.js';
import type { RolloutEventRow, RolloutRow } from './schema.js';

/* Row converters: the columns carry the domain's types (schema.ts), so these only check. */
const toRollout = (row: RolloutRow): Rollout => row;
const toEvent = (row: RolloutEventRow): RolloutEvent => row;
const eventRow = (rolloutId: string, e: NewRolloutEvent): typeof rolloutEvents.$inferInsert => ({
  rolloutId,
  at: e.at,
  type: e.type,
  actor: e.actor,
  reason: e.reason ?? null,
  data: e.data ?? null,
});

export class RolloutStore implements RolloutRepository {
  constructor(private readonly db: Db) {}

  async insert(rollout: Rollout, event: NewRolloutEvent): Promise<Rollout> {
    try {
      return await this.db.transaction(async (tx) => {
        const [inserted] = await tx.insert(rollouts).values(rollout).returning();
        await tx.insert(rolloutEvents).values(eventRow(inserted!.id, event));
        return toRollout(inserted!);
      });
    } catch (err) {
      // The one unique index besides the key: one running or paused rollout per chain.
      throw duplicateAs(`An active rollout of chain '${rollout.chainId}'`, err);
    }
  }

  async transition(
    from: Pick<Rollout, 'id' | 'status' | 'stage'>,
    to: RolloutChange,
    events: NewRolloutEvent[],
    promote?: { chainId: string; version: string },
  ): Promise<Rollout | undefined> {
    return this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(rollouts)
        .set(to)
        .where(and(eq(rollouts.id, from.id), eq(rollouts.status, from.status), eq(rollouts.stage, from.stage)))
        .returning();
      if (!updated) return undefined;
      // In order, in the same transaction: the evidence (e.g. guardrail_breached) before the action.
      await tx.insert(rolloutEvents).values(events.map((e) => eventRow(from.id, e)));
      if (promote)
        await tx.update(chains).set({ currentVersion: promote.version, updatedAt: to.updatedAt }).where(eq(chains.id, promote.chainId));
      return toRollout(updated);
    });
  }

  async appendEvent(rolloutId: string, event: NewRolloutEvent): Promise<void> {
    await this.db.insert(rolloutEvents).values(eventRow(rolloutId, event));
  }

  async get(id: string): Promise<Rollout | undefined> {
    const [row] = await this.db.select().from(rollouts).where(eq(rollouts.id, id));
    return row && toRollout(row);
  }

  async list(): Promise<Rollout[]> {
    return (await this.db.select().from(rollouts).orderBy(desc(rollouts.createdAt))).map(toRollout);
  }

  async listActive(): Promise<Rollout[]> {
    return (
      await this.db
        .select()
        .from(rollouts)
        .where(inArray(rollouts.status, [...ACTIVE_STATUSES]))
    ).map(toRollout);
  }

  async events(rolloutId: string): Promise<RolloutEvent[]> {
    return (await this.db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, rolloutId)).orderBy(asc(rolloutEvents.id))).map(
      toEvent,
    );
  }
}
