/**
 * `npm run demo`: a complete simulated canary on embedded defaults. Starts the gateway, a
 * simulated upstream with a good (v1) and a worse (v2) chain version, tenants with staging and
 * production, and reviewers who override v2's answers more often. The candidate goes to two
 * customers' staging systems, then to half of production's documents; the override-rate
 * guardrail notices and rolls it back by itself. The gateway keeps running for the dashboard.
 */
import cliProgress from 'cli-progress';
import { ApiClient } from '../cli/api-client.js';
import { formatComparison } from '../cli/format.js';
import type { Config } from '../config/config.js';
import { banner, startServer } from '../server.js';
import { startSimulatedUpstream } from './simulated-upstream.js';

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka'];
/** How often simulated reviewers change the AI's total, per version. */
const OVERRIDE_RATE = { v1: 0.08, v2: 0.2 } as const;

export async function runDemo(config: Config, opts: { fast: boolean }): Promise<void> {
  const upstream = await startSimulatedUpstream();
  // The guardrail job looks every second in the demo (the default is 10 s).
  const server = await startServer({ ...config, GUARDRAIL_INTERVAL_MS: Math.min(config.GUARDRAIL_INTERVAL_MS, 1000), LOG_LEVEL: 'error' });
  process.stdout.write(banner(server, config));
  const api = new ApiClient({ url: server.url, token: server.gateway.adminToken });
  const chain = `invoice-extraction-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}`;
  const say = (s: string) => process.stdout.write(`\n▸ ${s}\n`);

  say(`Registering ${TENANTS.length} tenants and chain '${chain}' with two versions (v1 = today's chain, v2 = the new prompt).`);
  for (const t of TENANTS) await api.call('PUT', `/v1/tenants/${t}`, { name: t[0]!.toUpperCase() + t.slice(1) });
  await api.call('PUT', `/v1/chains/${chain}`, { description: 'Extracts vendor, total, currency and date from invoices (demo)' });
  await api.call('POST', `/v1/chains/${chain}/versions`, { version: 'v1', adapter: { type: 'http', url: upstream.url('v1') } });
  await api.call('POST', `/v1/chains/${chain}/versions`, { version: 'v2', adapter: { type: 'http', url: upstream.url('v2') } });

  const rollout = await api.call('POST', '/v1/rollouts', {
    chain,
    control: 'v1',
    candidate: 'v2',
    stages: [
      { environments: ['staging'], tenants: ['acme', 'globex'], percent: 100 },
      { environments: ['prod'], percent: 50, splitBy: 'unit' },
    ],
    guardrails: [
      { metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 },
      { metric: 'error_rate', max: 0.05, minSamples: 100 },
    ],
    fallbackToControl: true,
  });
  say(`Rollout ${rollout.id} started: stage 1 sends acme's and globex's staging systems to v2.`);

  let doc = 0;
  const call = async (tenant: string, environment: string) => {
    const id = ++doc;
    const res = await api
      .call('POST', `/v1/chains/${chain}/invoke`, { tenant, environment, input: { doc: id }, unit: `doc-${id}`, externalId: `INV-${id}` })
      .catch(() => undefined);
    if (!res?.output) return;
    const version = res.variant === 'candidate' ? 'v2' : 'v1';
    const output = res.output as { total: number };
    // Four in five documents get reviewed; the reviewer fixes the total when the AI got it wrong.
    if (Math.random() > 0.8) return;
    const final = Math.random() < OVERRIDE_RATE[version] ? { ...output, total: output.total + 10 } : output;
    await api.call('POST', `/v1/runs/${res.runId}/feedback`, { final, reviewer: `reviewer-${tenant}` }).catch(() => undefined);
  };
  const drive = async (label: string, total: number, pick: () => [string, string], stop?: () => Promise<boolean>) => {
    const bar = new cliProgress.SingleBar(
      { format: `  ${label} [{bar}] {value}/{total} calls  {status}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { status: '' });
    const concurrency = 8;
    let sent = 0;
    let stopped = false;
    const worker = async () => {
      while (sent < total && !stopped) {
        sent++;
        const [t, e] = pick();
        await call(t, e);
        bar.increment();
        if (stop && sent % 50 === 0 && (await stop())) stopped = true;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    bar.stop();
    return stopped;
  };

  await drive('staging', opts.fast ? 200 : 400, () => [Math.random() < 0.5 ? 'acme' : 'globex', 'staging']);
  await api.call('POST', `/v1/rollouts/${rollout.id}/advance`, {});
  say('Staging looked fine to the team, so they advanced: stage 2 splits production documents 50/50 between v1 and v2 in every tenant.');

  const rolledBack = async () => (await api.call('GET', `/v1/rollouts/${rollout.id}`)).status === 'rolled_back';
  const stopped = await drive(
    'production',
    opts.fast ? 3000 : 6000,
    () => [TENANTS[Math.floor(Math.random() * TENANTS.length)]!, 'prod'],
    rolledBack,
  );
  await new Promise((r) => setTimeout(r, 1500));
  const final = await api.call('GET', `/v1/rollouts/${rollout.id}`);
  const events = (await api.call('GET', `/v1/rollouts/${rollout.id}/events`)).events as {
    at: string;
    type: string;
    actor: string;
    reason?: string;
  }[];

  say(
    final.status === 'rolled_back'
      ? 'The guardrail fired: v2 was rolled back automatically.'
      : `The rollout is ${final.status}${stopped ? '' : ' (the guardrail had not fired yet)'}.`,
  );
  for (const e of events) process.stdout.write(`  ${e.at}  ${e.type.padEnd(18)} ${e.actor.padEnd(16)} ${e.reason ?? ''}\n`);
  say(
    'The comparison (GET /v1/rollouts/:id/comparison). The override rate is the share of reviewed answers in which the reviewer changed at least one field: lower is better.',
  );
  process.stdout.write(`${formatComparison(await api.call('GET', `/v1/rollouts/${rollout.id}/comparison`))}\n`);
  // The demo's stdout is a terminal, not the gateway's log stream (its log level is "error"), so
  // the token is printed here: the dashboard asks for it.
  say(`Open ${server.url}/dashboard and paste the admin token to see it (the same figures). Ctrl+C stops the gateway.`);
  process.stdout.write(`  admin token    ${server.gateway.adminToken}\n`);
}
