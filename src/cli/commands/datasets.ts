/**
 * `chain-canary dataset create|list|export` and `chain-canary replay --dataset … --version …`
 * (admin): datasets of reviewed cases, and a replay of a version over one, followed with a
 * progress bar and printed as a result table (README "Datasets, replays and the gate").
 */
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { compareResponse, datasetSchema, replaySchema } from '../../http/schemas/datasets.js';
import type { ApiClient } from '../api-client.js';
import { CliError, withContext, type CliContext, type CliIo } from '../context.js';
import { formatDataset, formatDatasets, formatReplay, formatReplayComparison } from '../format-replays.js';
import { readCasesFile } from '../read-cases.js';

type DatasetOut = z.infer<typeof datasetSchema>;
type ReplayOut = z.infer<typeof replaySchema>;
type CompareOut = z.infer<typeof compareResponse>;

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CliError(`not a whole number: ${value}`);
  return n;
}

/** Cases per upload request: far below BODY_LIMIT for cases of ordinary size. */
const UPLOAD_CHUNK = 1000;
const POLL_MS = 500;

interface CreateOptions {
  chain: string;
  file?: string;
  environments?: string[];
  tenants?: string[];
  since?: string;
  until?: string;
  overriddenOnly?: boolean;
  limit?: number;
  sample?: 'latest' | 'random';
  seed?: number;
  perTenant?: number;
}

interface ReplayOptions {
  dataset: string;
  replayVersion?: string;
  concurrency?: number;
  repeats?: number;
  compareWith?: string;
  wait: boolean;
}

/**
 * The program's own `--version` (print the package version) is recognised anywhere on the command
 * line, so `replay --version v2` would print it. After the `replay` command, `--version` names the
 * chain version: it is passed on as `--replay-version`.
 */
export function replayVersionArgs(args: readonly string[]): string[] {
  const globalsWithValue = new Set(['--url', '--token']);
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += globalsWithValue.has(args[i]!) ? 2 : 1;
  if (args[i] !== 'replay') return [...args];
  return args.map((a, j) =>
    j > i && a === '--version' ? '--replay-version' : j > i && a.startsWith('--version=') ? `--replay-version=${a.slice(10)}` : a,
  );
}

export function registerDatasetCommands(program: Command, io: CliIo): void {
  const dataset = program
    .command('dataset')
    .alias('datasets')
    .description('datasets: reviewed cases (input and the record a human accepted) to replay versions on');

  dataset
    .command('create <name>')
    .description('create a dataset from reviewed runs of a chain, or from a file of your own cases (POST /v1/datasets)')
    .requiredOption('-c, --chain <chain>', 'the chain')
    .option('-f, --file <path>', 'upload these cases instead: a JSON array or JSON Lines of {"input", "expected", "trackedFields"?}')
    .option('--environments <names>', 'only runs of these environments (comma-separated)', list)
    .option('--tenants <ids>', 'only runs of these tenants (comma-separated)', list)
    .option('--since <iso>', 'only runs created at or after (ISO 8601)')
    .option('--until <iso>', 'only runs created before (ISO 8601)')
    .option('--overridden-only', 'only runs the human changed')
    .option('--limit <n>', 'at most this many cases (default 100)', int)
    .addOption(new Option('--sample <how>', 'which runs: the latest, or a seeded random sample').choices(['latest', 'random']))
    .option('--seed <n>', 'seed of --sample random (the same seed picks the same runs)', int)
    .option('--per-tenant <n>', 'at most this many cases per tenant', int)
    .action(
      withContext(io, async (ctx, name: string, opts: CreateOptions) => {
        const api = ctx.api();
        if (opts.file) {
          const cases = readCasesFile(opts.file);
          const created = await api.call<DatasetOut>('POST', '/v1/datasets', { name, chain: opts.chain });
          let latest = created;
          for (let i = 0; i < cases.length; i += UPLOAD_CHUNK) {
            latest = await api.call<DatasetOut>('POST', `/v1/datasets/${created.id}/cases`, cases.slice(i, i + UPLOAD_CHUNK));
          }
          ctx.print(latest, formatDataset);
          return;
        }
        const from = {
          ...(opts.environments ? { environments: opts.environments } : {}),
          ...(opts.tenants ? { tenants: opts.tenants } : {}),
          ...(opts.since ? { from: opts.since } : {}),
          ...(opts.until ? { to: opts.until } : {}),
          ...(opts.overriddenOnly ? { overriddenOnly: true } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.sample ? { sample: opts.sample } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.perTenant !== undefined ? { perTenant: opts.perTenant } : {}),
        };
        ctx.print(await api.call<DatasetOut>('POST', '/v1/datasets', { name, chain: opts.chain, from }), formatDataset);
      }),
    );

  dataset
    .command('list')
    .description('list datasets (GET /v1/datasets)')
    .option('-c, --chain <chain>', "only this chain's")
    .action(
      withContext(io, async (ctx, opts: { chain?: string }) => {
        const query = opts.chain ? `?chain=${encodeURIComponent(opts.chain)}` : '';
        const res = await ctx.api().call<{ items: DatasetOut[] }>('GET', `/v1/datasets${query}`);
        ctx.print(res, (r) => formatDatasets(r.items));
      }),
    );

  dataset
    .command('export <id>')
    .description('write every case as JSON Lines (what `create --file` and POST …/cases take back)')
    .option('-o, --output <path>', 'write to this file instead of stdout')
    .action(
      withContext(io, async (ctx, id: string, opts: { output?: string }) => {
        const lines: string[] = [];
        for await (const c of allCases(ctx.api(), id)) lines.push(JSON.stringify(c));
        const text = lines.length ? `${lines.join('\n')}\n` : '';
        if (opts.output) {
          writeFileSync(opts.output, text);
          if (!ctx.json) io.err(`${lines.length} cases written to ${opts.output}\n`);
        } else io.out(text);
      }),
    );

  program
    .command('replay')
    .description('replay a chain version over a dataset, follow it, and print its result (POST /v1/datasets/{id}/replays)')
    .usage('--dataset <id> --version <version> [options]')
    .requiredOption('-d, --dataset <id>', 'the dataset')
    .addOption(new Option('--replay-version <version>', 'the chain version to replay (given as --version)').hideHelp())
    .option('--concurrency <n>', 'cases in flight at once (default 4)', int)
    .option('--repeats <n>', 'runs per case (default 1): repeats show how much the version disagrees with itself', int)
    .option('--compare-with <replay>', 'then compare with this earlier replay of the same dataset, pair by pair')
    .option('--no-wait', 'start it and print its id; do not follow it')
    .addHelpText('after', '\nRequired:\n  --version <version>      the chain version to replay (after `replay`, --version names it)')
    .action(
      withContext(io, async (ctx, opts: ReplayOptions) => {
        if (!opts.replayVersion) throw new CliError('replay needs --version <version>: the chain version to replay');
        const api = ctx.api();
        const body = {
          version: opts.replayVersion,
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
          ...(opts.repeats !== undefined ? { repeats: opts.repeats } : {}),
        };
        const started = await api.call<{ id: string; statusUrl: string }>(
          'POST',
          `/v1/datasets/${encodeURIComponent(opts.dataset)}/replays`,
          body,
        );
        if (!opts.wait) {
          ctx.print(started, (s) => `replay ${s.id} started; follow it at ${s.statusUrl}`);
          return;
        }
        const replay = await follow(ctx, api, started.id);
        if (!opts.compareWith) {
          ctx.print(replay, formatReplay);
          return;
        }
        const other = await api.call<ReplayOut>('GET', `/v1/replays/${encodeURIComponent(opts.compareWith)}`);
        const comparison = await api.call<CompareOut>('GET', `/v1/replays/${encodeURIComponent(opts.compareWith)}/compare/${started.id}`);
        ctx.print({ replay, comparison }, (v) => `${formatReplay(v.replay)}\n\n${formatReplayComparison(v.comparison, other, v.replay)}`);
      }),
    );
}

/** Polls the replay until it finishes, with a progress bar on a terminal (none with --json or off a TTY). */
async function follow(ctx: CliContext, api: ApiClient, id: string): Promise<ReplayOut> {
  const tty = !ctx.json && process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: '  replay [{bar}] {value}/{total} cases  {status}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let replay = await api.call<ReplayOut>('GET', `/v1/replays/${id}`);
  bar?.start(replay.progress.total, replay.progress.done, { status: replay.status });
  try {
    while (replay.status === 'queued' || replay.status === 'running') {
      await new Promise((r) => setTimeout(r, POLL_MS));
      replay = await api.call<ReplayOut>('GET', `/v1/replays/${id}`);
      bar?.update(replay.progress.done, { status: replay.status });
    }
  } finally {
    bar?.stop();
  }
  return replay;
}

/** Every case of a dataset, page by page (GET /v1/datasets/{id}/cases). */
async function* allCases(api: ApiClient, id: string): AsyncGenerator<unknown> {
  let cursor: string | undefined;
  do {
    const page = await api.call<{ items: unknown[]; nextCursor?: string }>(
      'GET',
      `/v1/datasets/${encodeURIComponent(id)}/cases?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}
