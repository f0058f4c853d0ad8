/** `chain-canary chains put|list|get` (admin). */
import type { Command } from 'commander';
import { withContext, type CliIo } from '../context.js';
import { formatChain, formatChains } from '../format.js';
import { readJsonFile } from '../read-json.js';

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

interface PutOptions {
  description?: string;
  current?: string;
  environments?: string[];
  redactionFile?: string;
}

export function registerChainCommands(program: Command, io: CliIo): void {
  const chains = program.command('chains').alias('chain').description('chains: the LLM pipelines the gateway routes');

  chains
    .command('put <chain>')
    .description('create a chain or change it (PUT /v1/chains/{chain})')
    .option('-d, --description <text>', 'what the chain does')
    .option('--current <version>', 'the version that serves traffic no rollout claims')
    .option('--environments <names>', 'comma-separated environment names, e.g. dev,staging,prod', list)
    .option('--redaction-file <path>', 'JSON file with the redaction settings (README: Production setup, Privacy)')
    .action(
      withContext(io, async (ctx, chain: string, opts: PutOptions) => {
        const body = {
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.current ? { current: opts.current } : {}),
          ...(opts.environments ? { environments: opts.environments } : {}),
          ...(opts.redactionFile ? { redaction: readJsonFile(opts.redactionFile) } : {}),
        };
        ctx.print(await ctx.api().call('PUT', `/v1/chains/${encodeURIComponent(chain)}`, body), formatChain);
      }),
    );

  chains
    .command('list')
    .description('list chains (GET /v1/chains)')
    .action(
      withContext(io, async (ctx) => {
        const res = await ctx.api().call<{ items: unknown[] }>('GET', '/v1/chains');
        ctx.print(res, (r) => formatChains(r.items));
      }),
    );

  chains
    .command('get <chain>')
    .description('show a chain and its versions (GET /v1/chains/{chain})')
    .action(
      withContext(io, async (ctx, chain: string) => {
        ctx.print(await ctx.api().call('GET', `/v1/chains/${encodeURIComponent(chain)}`), formatChain);
      }),
    );
}
