/** `chain-canary keys create|revoke`: a tenant's API keys (admin). */
import type { Command } from 'commander';
import { withContext, type CliIo } from '../context.js';
import { formatCreatedKey } from '../format.js';

export function registerKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').alias('key').description("tenants' API keys: invoke and send feedback for that tenant only");

  keys
    .command('create <tenantId>')
    .description('create a key for a tenant; the key is shown only this once (POST /v1/tenants/{tenantId}/keys)')
    .option('-n, --name <name>', 'a name for the key (kept in the audit log)')
    .action(
      withContext(io, async (ctx, tenantId: string, opts: { name?: string }) => {
        const key = await ctx.api().call('POST', `/v1/tenants/${encodeURIComponent(tenantId)}/keys`, opts.name ? { name: opts.name } : {});
        ctx.print(key, formatCreatedKey);
      }),
    );

  keys
    .command('revoke <tenantId> <keyId>')
    .description('revoke a key; it stops working at once (DELETE /v1/tenants/{tenantId}/keys/{keyId})')
    .action(
      withContext(io, async (ctx, tenantId: string, keyId: string) => {
        await ctx.api().call('DELETE', `/v1/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}`);
        ctx.print({ tenantId, keyId, revoked: true }, () => `key ${keyId} of tenant ${tenantId} revoked`);
      }),
    );
}
