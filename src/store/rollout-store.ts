/** Rollouts and their audit log in the database. State changes are conditional updates, so two
 * replicas (or the guardrail job and a person) never both act on the same state. */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from './db.js';
import { chains, rolloutEvents, rollouts } from './schema.js';
import type { RolloutEventRow, RolloutRow } from './schema.js';

export type RolloutEventInsert = typeof rolloutEvents.$inferInsert;

export class RolloutStore {
  constructor(private readonly db: Db) {}

  async insert(row: typeof rollouts.$inferInsert, event: Omit<RolloutEventInsert, 'rolloutId'>): Promise<RolloutRow> {
    return this.db.transaction(async (tx) => {
      const [inserted] = await tx.insert(rollouts).values(row).returning();
      await tx.insert(rolloutEvents).values({ ...event, rolloutId: inserted!.id });
      return inserted!;
    });
  }

  /**
   * Moves a rollout from the state it was read in to a new one, with its audit events, in one
   * transaction; undefined when someone else changed it first (so its events are not written). A promotion also sets the
   * chain's current version.
   */
  async transition(
    from: Pick<RolloutRow, 'id' | 'status' | 'stage'>,
    to: Partial<Pick<RolloutRow, 'status' | 'stage' | 'stageStartedAt'>> & { updatedAt: Date },
    events: Omit<RolloutEventInsert, 'rolloutId'>[],
    promote?: { chainId: string; version: string },
  ): Promise<RolloutRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(rollouts)
        .set(to)
        .where(and(eq(rollouts.id, from.id), eq(rollouts.status, from.status), eq(rollouts.stage, from.stage)))
        .returning();
      if (!updated) return undefined;
      // In order, in the same transaction: the evidence (e.g. guardrail_breached) before the action.
      await tx.insert(rolloutEvents).values(events.map((e) => ({ ...e, rolloutId: from.id })));
      if (promote) await tx.update(chains).set({ currentVersion: promote.version, updatedAt: to.updatedAt }).where(eq(chains.id, promote.chainId));
      return updated;
    });
  }

  async appendEvent(event: RolloutEventInsert): Promise<void> {
    await this.db.insert(rolloutEvents).values(event);
  }

  async get(id: string): Promise<RolloutRow | undefined> {
    const [row] = await this.db.select().from(rollouts).where(eq(rollouts.id, id));
    return row;
  }

  list(): Promise<RolloutRow[]> {
    return this.db.select().from(rollouts).orderBy(desc(rollouts.createdAt));
  }

  listActive(): Promise<RolloutRow[]> {
    return this.db.select().from(rollouts).where(inArray(rollouts.status, ['running', 'paused']));
  }

  events(rolloutId: string): Promise<RolloutEventRow[]> {
    return this.db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, rolloutId)).orderBy(asc(rolloutEvents.id));
  }
}
