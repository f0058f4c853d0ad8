/**
 * What every command shares: the global options (--url, --token, --json), the API client built
 * from them, and where output goes (process streams, or a test's buffers).
 */
import type { Command } from 'commander';
import { ApiClient, resolveToken } from './api-client.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

/** A usage mistake the user can fix (a missing file, bad JSON): printed as one line, exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export class CliContext {
  constructor(
    readonly io: CliIo,
    private readonly cmd: Command,
  ) {}

  get options(): GlobalOptions {
    return this.cmd.optsWithGlobals<GlobalOptions>();
  }

  get json(): boolean {
    return this.options.json === true;
  }

  api(): ApiClient {
    const o = this.options;
    return new ApiClient({ url: o.url, token: resolveToken(o.token) });
  }

  /** With --json the value as JSON (what the API answered); otherwise the human rendering. */
  print<T>(value: T, human: (value: T) => string): void {
    this.io.out(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human(value)}\n`);
  }
}

/** Wraps an action so it gets its context (commander passes the command object last). */
export function withContext<A extends unknown[]>(io: CliIo, action: (ctx: CliContext, ...args: A) => Promise<void> | void) {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    await action(new CliContext(io, cmd), ...(args.slice(0, -1) as A));
  };
}
