/**
 * Runs this replica wrote lately, kept in memory so that feedback on them is still taken while the
 * database is away (README "Outages"): a reviewer usually answers minutes after the call, and an
 * outage of the database must not turn that into a 503. Bounded by count, bytes (the runs' JSON)
 * and age; oldest first out. A tenant's runs go at once when its data is erased.
 */
import type { Run } from '../domain/model/run.js';

export interface RecentRunsOptions {
  maxRuns: number;
  maxBytes: number;
  maxAgeMs: number;
  now: () => number;
}

interface Entry {
  run: Run;
  bytes: number;
  at: number;
}

export class RecentRuns {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly opts: RecentRunsOptions) {}

  add(run: Run, bytes: number): void {
    if (bytes > this.opts.maxBytes) return;
    this.remove(run.id);
    this.entries.set(run.id, { run, bytes, at: this.opts.now() });
    this.bytes += bytes;
    this.evict();
  }

  get(id: string): Run | undefined {
    this.evict();
    return this.entries.get(id)?.run;
  }

  /** Erasure: the tenant's runs must not outlive it here. */
  forgetTenant(tenantId: string): void {
    for (const [id, e] of this.entries) if (e.run.tenantId === tenantId) this.remove(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }

  private evict(): void {
    const oldest = this.opts.now() - this.opts.maxAgeMs;
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.opts.maxRuns && this.bytes <= this.opts.maxBytes && e.at >= oldest) break;
      this.remove(id);
    }
  }
}
