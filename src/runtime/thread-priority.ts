/**
 * The gateway's background threads (the embedded database's, the recorder's) yield the cores to
 * the thread that answers calls: on Linux a thread has a nice value of its own, and this raises
 * the calling thread's. Where the cores are shared (the database, the upstream, the load), most of
 * the event loop's stalls at 500 req/s were the answering thread waiting for a core (README
 * "Performance"); a background thread then runs when that thread does not need the core. It
 * still gets its share under contention (CFS weights, not strict priority): its work only waits.
 *
 * Best effort: another platform, or a kernel that refuses, leaves the priority as it was.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * What the background threads add to their nice value: a CFS weight of about a third of the
 * answering thread's. In two pairs of paced runs on the embedded database, the stalls over 4 ms
 * fell from 101 and 104 to 69 and 77, the added p99 from +4.5 and +5.4 ms to +4.0 and +4.2 ms,
 * every run stored (bench/README.md).
 */
export const BACKGROUND_THREAD_NICENESS = 5;

/** Raises this thread's nice value by `niceness` (0–19); false when it could not. */
export function yieldCoresFromThisThread(niceness: number): boolean {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>": the kernel's id of this very thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return false;
    // setpriority(PRIO_PROCESS, tid) sets one thread's nice value on Linux, not the process's.
    setPriority(tid, Math.min(19, getPriority(tid) + niceness));
    return true;
  } catch {
    return false;
  }
}
