/**
 * Starting one of the gateway's worker threads (the embedded database's, the shadow calls') from
 * the compiled gateway (`dist/*.js`, as `npm start` runs it) or from the TypeScript sources
 * (tests, `tsx src/cli.ts`). Each worker's entry file sits next to the module that starts it, so
 * the entry is named relative to that module's `import.meta.url`.
 */
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface WorkerEntry {
  /** The entry file: `<name>.js` next to a compiled module, `<name>.ts` next to a source file. */
  url: URL;
  compiled: boolean;
}

/** The entry `./<name>` (no extension) next to the module at `moduleUrl`, in the form that module runs as. */
export function workerEntry(moduleUrl: string, name: string): WorkerEntry {
  const compiled = moduleUrl.endsWith('.js');
  return { url: new URL(`./${name}${compiled ? '.js' : '.ts'}`, moduleUrl), compiled };
}

/**
 * The young generation (MB) of the gateway's background threads (the embedded database's, the
 * recorder's): 1 MB semi-spaces, not the 8 MB `npm start` gives the thread that answers calls for
 * its pauses. Their garbage is statements, batches and rows in passing, and their pauses hold no
 * reply (README "Production setup", Process).
 */
export const BACKGROUND_THREAD_YOUNG_GENERATION_MB = 3;

/**
 * Starts a worker thread on `entry`. A resourceLimits.maxYoungGenerationSizeMb holds even when the
 * process runs with --max-semi-space-size (see withSemiSpace).
 */
export function startWorker(entry: WorkerEntry, options: WorkerOptions = {}): Worker {
  const youngMb = options.resourceLimits?.maxYoungGenerationSizeMb;
  if (youngMb === undefined) return newWorker(entry, options);
  // V8's young generation is three semi-spaces' worth (two semi-spaces and the large objects').
  return withSemiSpace(Math.max(1, Math.floor(youngMb / 3)), () => newWorker(entry, options));
}

function newWorker(entry: WorkerEntry, options: WorkerOptions): Worker {
  if (entry.compiled) return new Worker(entry.url, options);
  // A worker does not inherit tsx's loader on Node 20, so its entry registers it before importing
  // the TypeScript file.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * V8 sizes each isolate's young generation from --max-semi-space-size when the process has it
 * (`npm start`: 8 MB, for the gateway's thread's pauses), over a worker's
 * resourceLimits.maxYoungGenerationSizeMb: every worker would get the gateway's 16 MB of new
 * space, resident once the worker allocates. The flag is process-wide and read when an isolate is
 * made, on the worker's own thread: it is lowered until the worker runs ('online'), then restored.
 */
function withSemiSpace(mb: number, start: () => Worker): Worker {
  const restore = processSemiSpaceMb();
  setFlagsFromString(`--max-semi-space-size=${mb}`);
  let restored = false;
  const back = () => {
    if (restored) return;
    restored = true;
    setFlagsFromString(`--max-semi-space-size=${restore}`);
  };
  try {
    const worker = start();
    worker.once('online', back);
    worker.once('error', back);
    worker.once('exit', back);
    return worker;
  } catch (err) {
    back();
    throw err;
  }
}

/** The process's --max-semi-space-size (node flags or NODE_OPTIONS); 0 is V8's default (sized by V8). */
function processSemiSpaceMb(): number {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  let mb = 0;
  for (let i = 0; i < args.length; i++) {
    const m = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/.exec(args[i] ?? '');
    if (m) mb = Number(m[1] ?? args[i + 1]) || 0;
  }
  return mb;
}

/** `node <args>` that run `entry` as a process of its own (with tsx's loader for a TypeScript entry). */
export function processArgs(entry: WorkerEntry, ...args: string[]): string[] {
  const path = fileURLToPath(entry.url);
  return entry.compiled ? [path, ...args] : ['--import', import.meta.resolve('tsx/esm'), path, ...args];
}

/**
 * Asks a worker that answers `{op: 'close'}` with `{op: 'closed'}` to finish what it holds, and
 * waits for that, its exit or `timeoutMs`, whichever comes first; the caller then terminates it.
 */
export async function askToClose(worker: Worker, timeoutMs: number): Promise<void> {
  worker.ref();
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    worker.on('message', (m: { op?: unknown }) => m.op === 'closed' && resolve());
    worker.once('exit', () => resolve());
    worker.postMessage({ op: 'close' });
  });
  clearTimeout(timer);
}

/** What a background thread's owner hears from it. */
export interface BackgroundThreadHandlers<Reply> {
  message: (worker: Worker, reply: Reply) => void;
  /**
   * The thread failed, exited or was closed (`how` says which, for the log and the errors of what
   * it held; `closing`: close() was called): the owner fails what it had pending in it.
   */
  lost: (how: string, err: Error | undefined, closing: boolean) => void;
}

/**
 * One background worker thread of a gateway component (the recorder's, the shadow calls'). It
 * starts on first use, unreferenced: its owner refs it while work is pending in it, so an idle
 * one never keeps the process alive. A thread that fails or exits is reported lost once, and the
 * next use starts a new one. close() asks it to finish what it holds (askToClose), then
 * terminates it.
 */
export class BackgroundThread<Reply> {
  #worker: Worker | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly entry: WorkerEntry,
    private readonly options: WorkerOptions,
    private readonly on: BackgroundThreadHandlers<Reply>,
    private readonly closeTimeoutMs: number,
  ) {}

  /** The running thread, if any. */
  get current(): Worker | undefined {
    return this.#worker;
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** The running thread, started if there is none. */
  get(): Worker {
    return this.#worker ?? this.#start();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Stops the thread as a crash would (tests): it is reported lost, the next use starts a new one. */
  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  #start(): Worker {
    const worker = startWorker(this.entry, this.options);
    worker.unref();
    worker.on('message', (m: Reply) => this.on.message(worker, m));
    worker.on('error', (err) => this.#lost(worker, `failed (${err.message})`, err));
    worker.on('exit', (code) => this.#lost(worker, `exited (code ${code})`));
    this.#worker = worker;
    return worker;
  }

  #lost(worker: Worker, how: string, err?: Error): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    this.on.lost(how, err, this.#closing !== undefined);
  }

  async #close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    await askToClose(worker, this.closeTimeoutMs);
    // Anything still pending was not answered in time: it fails as the thread goes.
    this.#lost(worker, 'was closed');
    await worker.terminate();
  }
}
