/** `chain-canary versions add|list`: a chain's immutable versions (admin). */
import type { Command } from 'commander';
import { CliError, withContext, type CliIo } from '../context.js';
import { formatVersion, formatVersions } from '../format.js';
import { readJsonFile } from '../read-json.js';

interface AddOptions {
  endpoint?: string;
  timeoutMs?: string;
  file?: string;
}

export function registerVersionCommands(program: Command, io: CliIo): void {
  const versions = program.command('versions').alias('version').description("a chain's versions: what each arm calls");

  versions
    .command('add <chain> <version>')
    .description(
      'register a version (POST /v1/chains/{chain}/versions): a LangServe-style endpoint with --endpoint, or any adapter from a JSON file with --file',
    )
    .option(
      '-e, --endpoint <invokeUrl>',
      'an HTTP chain answering LangServe\'s /invoke: POST {"input"} → {"output"} (--url is the gateway\'s)',
    )
    .option('--timeout-ms <ms>', 'with --endpoint: how long to wait for the upstream')
    .option('-f, --file <path>', 'JSON file with the adapter, e.g. {"type": "openai", "model": ..., "messages": [...]}')
    .action(
      withContext(io, async (ctx, chain: string, version: string, opts: AddOptions) => {
        if (!!opts.endpoint === !!opts.file)
          throw new CliError('versions add: give either --endpoint <invokeUrl> or --file <adapter.json>');
        const adapter = opts.file
          ? readJsonFile(opts.file)
          : { type: 'http', url: opts.endpoint, ...(opts.timeoutMs ? { timeoutMs: Number(opts.timeoutMs) } : {}) };
        const created = await ctx.api().call('POST', `/v1/chains/${encodeURIComponent(chain)}/versions`, { version, adapter });
        ctx.print(created, formatVersion);
      }),
    );

  versions
    .command('list <chain>')
    .description("list a chain's versions (GET /v1/chains/{chain}/versions)")
    .action(
      withContext(io, async (ctx, chain: string) => {
        const res = await ctx.api().call<{ items: unknown[] }>('GET', `/v1/chains/${encodeURIComponent(chain)}/versions`);
        ctx.print(res, (r) => formatVersions(r.items));
      }),
    );
}
