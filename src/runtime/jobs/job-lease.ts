/**
 * A lease row per background job: a replica runs the job only while it holds the lease, renewed
 * on every run and expiring on its own when the holder dies, so exactly one replica acts at a time
 * and another takes over after a crash. (Unleash features/scheduler/job-store.ts does the same
 * with INSERT ... ON CONFLICT.) Works on PostgreSQL and PGlite alike, unlike session advisory
 * locks, which a connection pool would scatter.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../store/db.js';

export class JobLease {
  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; false while another live holder has it. */
  async acquire(now: Date): Promise<boolean> {
    const expires = new Date(now.getTime() + this.ttlMs);
    const rows = await this.db.execute(sql`
      INSERT INTO job_leases (name, holder, expires_at) VALUES (${this.name}, ${this.holder}, ${expires})
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < ${now}
      RETURNING holder`);
    return rowsOf(rows).length > 0;
  }

  async release(): Promise<void> {
    await this.db.execute(sql`DELETE FROM job_leases WHERE name = ${this.name} AND holder = ${this.holder}`);
  }
}

/** node-postgres returns { rows }, PGlite returns { rows } too; drizzle passes either through. */
function rowsOf(result: unknown): unknown[] {
  const r = result as { rows?: unknown[] } | unknown[];
  return Array.isArray(r) ? r : (r.rows ?? []);
}
