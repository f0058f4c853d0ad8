/**
 * Runs this replica wrote lately, kept in memory so that feedback on them is still taken while the
 * database is away (README "Outages"): a reviewer usually answers minutes after the call, and an
 * outage of the database must not turn that into a 503. Bounded by count, bytes (the runs' JSON)
 * and age; oldest first out. A tenant's runs go at once when its data is erased.
 *
 * Each run is kept as the JSON text the writer already built for the spool and the insert, and
 * revived only when asked for (rarely: feedback on a run the database cannot give back). Ten
 * thousand runs held as object graphs all end up in V8's old generation, where every full
 * collection traces them field by field; one flat string per run costs the collector next to
 * nothing (in the bench at 500 calls/s, `--trace-gc` showed full collections of 8–20 ms before,
 * 3.5–9 ms after).
 */
import type { Run } from '../domain/model/run.js';
import { parseRun } from './spool/spool-record.js';

export interface RecentRunsOptions {
  maxRuns: number;
  maxBytes: number;
  maxAgeMs: number;
  now: () => number;
}

interface Entry {
  id: string;
  tenantId: string;
  json: string;
  at: number;
}

export class RecentRuns {
  private readonly entries = new Map<string, Entry>();
  /**
   * The entries in age order, the oldest at `head`. An entry removed out of turn (the run added
   * again, its tenant erased) stays here, its JSON dropped, until eviction reaches and skips it.
   * Evicting by iterating the Map from its start instead walks every slot V8 keeps for a deleted
   * entry until the table's next rehash: 5–9 µs per add at 5,000 runs, 7% of the writer's CPU in
   * the ingestion bench.
   */
  private order: Entry[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly opts: RecentRunsOptions) {}

  /** `json`: the run as the writer stored it (storable-json.ts); its length is what it costs here. */
  add(run: Pick<Run, 'id' | 'tenantId'>, json: string): void {
    if (json.length > this.opts.maxBytes) return;
    this.remove(run.id);
    const e: Entry = { id: run.id, tenantId: run.tenantId, json, at: this.opts.now() };
    this.entries.set(run.id, e);
    this.order.push(e);
    this.bytes += json.length;
    this.evict();
  }

  get(id: string): Run | undefined {
    this.evict();
    const e = this.entries.get(id);
    return e === undefined ? undefined : parseRun(e.json);
  }

  /** Erasure: the tenant's runs must not outlive it here. */
  forgetTenant(tenantId: string): void {
    for (const [id, e] of this.entries) if (e.tenantId === tenantId) this.remove(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.json.length;
    e.json = '';
  }

  private evict(): void {
    const oldest = this.opts.now() - this.opts.maxAgeMs;
    for (; this.head < this.order.length; this.head++) {
      const e = this.order[this.head]!;
      if (this.entries.get(e.id) !== e) continue; // removed out of turn
      if (this.entries.size <= this.opts.maxRuns && this.bytes <= this.opts.maxBytes && e.at >= oldest) break;
      this.remove(e.id);
    }
    // Drop what eviction passed, and entries removed out of turn once they outnumber the live ones.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    } else if (this.order.length - this.head > 2 * this.entries.size + 1024) {
      this.order = this.order.slice(this.head).filter((e) => this.entries.get(e.id) === e);
      this.head = 0;
    }
  }
}
