/** `chain-canary rollout ...`: rollouts on a running gateway (admin). */
import type { Command } from 'commander';
import { withContext, type CliIo } from '../context.js';
import { formatComparison, formatEvents, formatRollout, formatRollouts } from '../format.js';
import { readJsonFile } from '../read-json.js';

export function registerRolloutCommands(program: Command, io: CliIo): void {
  const rollout = program
    .command('rollout')
    .alias('rollouts')
    .description('rollouts: move traffic from the control to the candidate, stage by stage');

  rollout
    .command('status [id]')
    .description('list rollouts, or show one with its comparison')
    .action(
      withContext(io, async (ctx, id?: string) => {
        const api = ctx.api();
        if (!id) {
          const res = await api.call<{ items: unknown[] }>('GET', '/v1/rollouts');
          ctx.print(res, (r) => formatRollouts(r.items));
          return;
        }
        const path = `/v1/rollouts/${encodeURIComponent(id)}`;
        const [r, comparison] = await Promise.all([api.call('GET', path), api.call('GET', `${path}/comparison`)]);
        ctx.print({ rollout: r, comparison }, (v) => `${formatRollout(v.rollout)}\n\n${formatComparison(v.comparison)}`);
      }),
    );

  rollout
    .command('create')
    .description('start a rollout from a JSON file (the body of POST /v1/rollouts; README: Rollouts)')
    .requiredOption('-f, --file <path>', 'JSON file with chain, control, candidate, stages, guardrails...')
    .action(
      withContext(io, async (ctx, opts: { file: string }) => {
        ctx.print(await ctx.api().call('POST', '/v1/rollouts', readJsonFile(opts.file)), formatRollout);
      }),
    );

  rollout
    .command('events <id>')
    .description("the rollout's audit log, oldest first")
    .action(
      withContext(io, async (ctx, id: string) => {
        const res = await ctx.api().call<{ events: unknown[] }>('GET', `/v1/rollouts/${encodeURIComponent(id)}/events`);
        ctx.print(res, (r) => formatEvents(r.events));
      }),
    );

  const actions = {
    advance: 'move to the next stage',
    pause: 'send every call to the control for now',
    resume: 'resume a paused rollout at its stage',
    promote: "make the candidate the chain's current version",
  } as const;
  for (const [action, description] of Object.entries(actions)) {
    const command = rollout
      .command(`${action} <id>`)
      .description(description)
      .option('-r, --reason <reason>', 'why (kept in the audit log)');
    // A gated rollout starts, or a stage held by its shadow gate advances, only on an explicit, audited override.
    if (action === 'advance')
      command.option(
        '--override',
        'start a gated rollout at stage 0 without its gate, or leave a stage whose shadow gate has not passed (needs --reason)',
      );
    command.action(
      withContext(io, async (ctx, id: string, opts: { reason?: string; override?: boolean }) => {
        const body = { ...(opts.reason ? { reason: opts.reason } : {}), ...(opts.override ? { override: true } : {}) };
        ctx.print(await ctx.api().call('POST', `/v1/rollouts/${encodeURIComponent(id)}/${action}`, body), formatRollout);
      }),
    );
  }

  rollout
    .command('rollback <id>')
    .description('send every call to the control, for good')
    .requiredOption('-r, --reason <reason>', 'why (kept in the audit log and sent with the webhook)')
    .action(
      withContext(io, async (ctx, id: string, opts: { reason: string }) => {
        ctx.print(await ctx.api().call('POST', `/v1/rollouts/${encodeURIComponent(id)}/rollback`, { reason: opts.reason }), formatRollout);
      }),
    );
}
