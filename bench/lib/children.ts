/**
 * Child processes of the bench: a TypeScript entry runs under tsx (`node --import tsx`); the
 * gateway child is JavaScript running the compiled gateway (dist/, as `npm start` does). Each
 * writes its output to a log file (never to a pipe nobody reads: a full pipe would stall the
 * child's logger), and talks to the bench over IPC (serve-child.mjs): it sends
 * `{type: 'ready', url}` once listening and exits cleanly on `{type: 'stop'}` (so that
 * `--cpu-prof` writes its profile).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ROOT = resolve(BENCH_DIR, '..');
export const LOG_DIR = join(BENCH_DIR, '.logs');

export interface ReadyMessage {
  type: 'ready';
  url: string;
  [k: string]: unknown;
}

export interface Child {
  name: string;
  pid: number;
  url: string;
  ready: ReadyMessage;
  proc: ChildProcess;
  logFile: string;
  /** Sends a message and waits for the first reply of `replyType`. */
  ask<T>(message: Record<string, unknown>, replyType: string, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop; returns its last message (`stopped`), kills it after the timeout. */
  stop(timeoutMs?: number): Promise<Record<string, unknown> | undefined>;
}

/** TypeScript entries need tsx's loader; JavaScript ones run as they are. */
const loaderFor = (script: string): string[] => (script.endsWith('.ts') ? ['--import', 'tsx'] : []);

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export async function startChild(name: string, script: string, opts: StartOptions = {}): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = fork(join(BENCH_DIR, script), [], {
    cwd: ROOT,
    execArgv: [...(opts.nodeArgs ?? []), ...loaderFor(script)],
    env: { ...process.env, ...opts.env, NODE_ENV: 'production' },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));

  const ready = await new Promise<ReadyMessage>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${name} did not start within ${opts.timeoutMs ?? 60_000} ms; see ${logFile}`)),
      opts.timeoutMs ?? 60_000,
    );
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      proc.off('message', onMessage);
      res(m as ReadyMessage);
    };
    proc.on('message', onMessage);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited with code ${code} before it was ready:\n${tail(logFile)}`));
    });
  });

  const ask = <T>(message: Record<string, unknown>, replyType: string, timeoutMs = 30_000) =>
    new Promise<T>((res, rej) => {
      const timer = setTimeout(() => {
        proc.off('message', onMessage);
        rej(new Error(`${name}: no '${replyType}' reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: { type?: string }) => {
        if (m?.type !== replyType) return;
        clearTimeout(timer);
        proc.off('message', onMessage);
        res(m as T);
      };
      proc.on('message', onMessage);
      proc.send(message);
    });

  let stopping: Promise<Record<string, unknown> | undefined> | undefined;
  const stop = (timeoutMs = 60_000) =>
    (stopping ??= (async () => {
      if (proc.exitCode !== null) return undefined;
      let last: Record<string, unknown> | undefined;
      proc.on('message', (m: { type?: string }) => {
        if (m?.type === 'stopped') last = m;
      });
      proc.send({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      return last;
    })());

  return { name, pid: proc.pid!, url: ready.url, ready, proc, logFile, ask, stop };
}

export { serveChild } from './serve-child.mjs';

/** Resident set size of a process in bytes, from /proc (no work done inside the process). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

/**
 * A child that runs to completion: it sends `{type: 'result', ...}` and exits. Rejects when it
 * exits without a result or takes longer than `timeoutMs` (then it is killed).
 */
export async function runTask<T>(
  name: string,
  script: string,
  opts: StartOptions & { onProgress?: (m: Record<string, unknown>) => void } = {},
): Promise<T> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = fork(join(BENCH_DIR, script), [], {
    cwd: ROOT,
    execArgv: [...(opts.nodeArgs ?? []), ...loaderFor(script)],
    env: { ...process.env, ...opts.env, NODE_ENV: 'production' },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  return new Promise<T>((res, rej) => {
    let result: T | undefined;
    const timer = setTimeout(
      () => {
        proc.kill('SIGKILL');
        rej(new Error(`${name} took longer than ${opts.timeoutMs} ms; see ${logFile}`));
      },
      opts.timeoutMs ?? 30 * 60_000,
    );
    proc.on('message', (m: { type?: string }) => {
      if (m?.type === 'result') result = m as T;
      else if (m?.type === 'progress') opts.onProgress?.(m);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (result !== undefined) res(result);
      else rej(new Error(`${name} exited with code ${code} without a result:\n${tail(logFile)}`));
    });
  });
}

/** Child side of runTask: sends the result (or the error) and exits. */
export async function completeTask(work: () => Promise<Record<string, unknown>>): Promise<void> {
  const send = (m: Record<string, unknown>) =>
    new Promise<void>((res) =>
      process.send ? process.send(m, () => res()) : (process.stdout.write(JSON.stringify(m, null, 2) + '\n'), res()),
    );
  try {
    const result = await work();
    await send({ type: 'result', ...result });
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (10 ms ticks);
 * with `mainThread`, of its main thread only (/proc/<pid>/task/<pid>/stat: not its worker threads).
 */
export function cpuMsOf(pid: number, mainThread = false): number {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
