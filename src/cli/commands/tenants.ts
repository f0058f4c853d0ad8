/** `chain-canary tenants put|list` (admin). */
import type { Command } from 'commander';
import { withContext, type CliIo } from '../context.js';
import { formatTenant, formatTenants } from '../format.js';

export function registerTenantCommands(program: Command, io: CliIo): void {
  const tenants = program.command('tenants').alias('tenant').description('tenants: the customers whose calls are routed');

  tenants
    .command('put <tenantId>')
    .description('create a tenant, or rename it (PUT /v1/tenants/{tenantId})')
    .option('-n, --name <name>', 'a display name')
    .action(
      withContext(io, async (ctx, tenantId: string, opts: { name?: string }) => {
        const tenant = await ctx.api().call('PUT', `/v1/tenants/${encodeURIComponent(tenantId)}`, opts.name ? { name: opts.name } : {});
        ctx.print(tenant, formatTenant);
      }),
    );

  tenants
    .command('list')
    .description('list tenants (GET /v1/tenants)')
    .action(
      withContext(io, async (ctx) => {
        const res = await ctx.api().call<{ items: unknown[] }>('GET', '/v1/tenants');
        ctx.print(res, (r) => formatTenants(r.items));
      }),
    );
}
