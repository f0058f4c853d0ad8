/**
 * Ingestion: runs and feedback written per second into PostgreSQL through the real RunWriter +
 * RunStore batch path (bench/ingest.ts, in a child process of its own, each mode on a fresh
 * database). `composed` is the path as src/composition.ts wires it; `bare` is a RunStore without
 * read-model hooks, for reference; `copy` the composed path with the runs inserted by COPY into a
 * staging table (lib/copy-batch.ts) instead of json_to_recordset.
 */
import { runTask } from '../lib/children.js';
import { createDatabase } from '../lib/setup.js';

export interface IngestionOptions {
  runs: number;
  maxSeconds: number;
  modes: string[];
  log: (line: string) => void;
}

export async function runIngestion(o: IngestionOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const mode of o.modes) {
    const db = await createDatabase(`ingest${mode}`);
    try {
      const r = await runTask<Record<string, unknown>>(`ingest-${mode}`, 'ingest.ts', {
        env: { DATABASE_URL: db.url, INGEST_RUNS: String(o.runs), INGEST_MODE: mode, INGEST_MAX_SECONDS: String(o.maxSeconds) },
        timeoutMs: (o.maxSeconds + 300) * 1000,
      });
      delete r.type;
      out[mode] = r;
      o.log(
        `  ${mode}: ${Number(r.runs).toLocaleString('en')} runs + ${Number(r.feedback).toLocaleString('en')} feedback in ${Number(r.seconds).toFixed(1)} s = ${Number(r.runsPerSecond).toFixed(0)} runs/s, ${Number(r.feedbackPerSecond).toFixed(0)} feedback/s (batch p50 ${Number(r.batchMsP50).toFixed(0)} ms for ${Number(r.batchRunsAvg).toFixed(0)} runs; stored all: ${r.complete}; hooks: ${r.readModelHooks ?? 'none'})`,
      );
    } catch (err) {
      out[mode] = { error: String((err as Error).message ?? err) };
      o.log(`  ${mode}: failed: ${(err as Error).message}`);
    } finally {
      await db.drop();
    }
  }
  return out;
}
