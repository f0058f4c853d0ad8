/**
 * yieldCoresFromThisThread (src/runtime/thread-priority.ts): the calling thread's nice value goes
 * up, the rest of the process's threads keep theirs (Linux: nice is per thread).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

/** Field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised command name). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const onLinux = process.platform === 'linux';

describe.runIf(onLinux)('yieldCoresFromThisThread', () => {
  it("raises a worker thread's nice value and leaves the main thread's alone", async () => {
    const mainTid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const before = niceOf(mainTid);
    const moduleUrl = new URL('../../../src/runtime/thread-priority.ts', import.meta.url).href;
    const worker = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); }).then((m) => {
        const { readlinkSync } = require('node:fs');
        const { parentPort } = require('node:worker_threads');
        const ok = m.yieldCoresFromThisThread(5);
        parentPort.postMessage({ ok, tid: Number(readlinkSync('/proc/thread-self').split('/').pop()) });
        setInterval(() => {}, 1000);
      });`,
      { eval: true },
    );
    try {
      const { ok, tid } = await new Promise<{ ok: boolean; tid: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(ok).toBe(true);
      expect(tid).not.toBe(mainTid);
      expect(niceOf(tid)).toBe(Math.min(19, before + 5));
      expect(niceOf(mainTid)).toBe(before);
    } finally {
      await worker.terminate();
    }
  });
});
