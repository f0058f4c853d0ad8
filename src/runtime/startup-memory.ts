/**
 * Gives back to the system the heap that start-up used (README "Production setup", Process).
 *
 * Since Node 22, V8 keeps the heap pages a collection frees in a pool for its next allocations,
 * and returns them to the system only in a collection asked to reduce memory. Its memory reducer
 * starts such a collection once the process allocates little, which a gateway under steady traffic
 * never does; start-up (modules, migrations, the catalog, the OpenAPI document) takes the heap
 * higher than serving does, so the pool it leaves stays resident for the life of the process. On
 * Node 24 that was about 55 MB: the PostgreSQL mode idled at 159 MB, and at 101 MB after one such
 * collection (Node 20's V8 returns freed pages by itself: 90-107 MB either way).
 *
 * So the server runs one memory-reducing collection after start-up and before it listens, with
 * nothing waiting on it: 70-100 ms on Node 22 and 24, a few ms on Node 20.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc()` (the `--expose-gc` extension); `last-resort` is the collection that reduces memory. */
type CollectGarbage = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** The process's `gc`: the one `--expose-gc` put there, or one taken from a context made while the flag was on. */
function collectGarbage(): CollectGarbage {
  const exposed = (globalThis as { gc?: CollectGarbage }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as CollectGarbage;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

export interface StartupMemoryReleased {
  rssBeforeMB: number;
  rssAfterMB: number;
  ms: number;
}

/** One full, memory-reducing collection now (it blocks the thread while it runs). */
export function releaseStartupMemory(): StartupMemoryReleased {
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  const rssBeforeMB = mb(process.memoryUsage.rss());
  const started = performance.now();
  collectGarbage()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { rssBeforeMB, rssAfterMB: mb(process.memoryUsage.rss()), ms: Math.round(performance.now() - started) };
}
