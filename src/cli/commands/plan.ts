/**
 * `chain-canary plan`: the rollout planner on a running gateway (POST /v1/rollouts/plan, admin).
 * The body comes from a JSON file (`-f`, `-` for stdin) and/or flags; a flag wins over the file.
 * The gateway validates it (400 with what is wrong).
 */
import type { Command } from 'commander';
import { CliError, withContext, type CliIo } from '../context.js';
import { formatPlan } from '../format-plan.js';
import { readJsonFile } from '../read-json.js';

function num(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`not a number: ${value}`);
  return n;
}

/** `override_rate:maxIncrease=0.03,minSamples=100` → a guardrail. */
export function parseGuardrail(spec: string): Record<string, unknown> {
  const [metric, rest = ''] = spec.split(':', 2);
  if (!metric) throw new CliError(`a guardrail is metric:limit=value,…, got ${spec}`);
  const g: Record<string, unknown> = { metric };
  for (const part of rest.split(',').filter(Boolean)) {
    const [k, v] = part.split('=', 2);
    if (!k || v === undefined) throw new CliError(`a guardrail is metric:limit=value,…, got ${spec}`);
    g[k.trim()] = num(v);
  }
  return g;
}

interface PlanOptions {
  file?: string;
  guardrail: string[];
  guardrailAlpha?: number;
  alpha?: number;
  overrideRate?: number;
  errorRate?: number;
  reviewRate?: number;
  candidateOverrideRate?: number;
  candidateErrorRate?: number;
  candidateReviewRate?: number;
  runsPerDay?: number;
  share?: number;
  days?: number;
  splitBy?: string;
  tenants?: number;
  tenantSpread?: number;
  checkEvery?: number;
  simulations?: number;
  seed?: number;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** Only the fields given. */
const given = (o: Record<string, unknown>): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The request body: the file's, with every flag given laid over it. */
export function planBody(opts: PlanOptions, file?: unknown): Json {
  const base = obj(file);
  const candidate = {
    ...obj(base.candidate),
    ...given({ overrideRate: opts.candidateOverrideRate, errorRate: opts.candidateErrorRate, reviewRate: opts.candidateReviewRate }),
  };
  return {
    ...base,
    ...(opts.guardrail.length > 0 ? { guardrails: opts.guardrail.map(parseGuardrail) } : {}),
    ...given({
      guardrailAlpha: opts.guardrailAlpha,
      alpha: opts.alpha,
      checkEveryMinutes: opts.checkEvery,
      simulations: opts.simulations,
      seed: opts.seed,
    }),
    control: {
      ...obj(base.control),
      ...given({ overrideRate: opts.overrideRate, errorRate: opts.errorRate, reviewRate: opts.reviewRate }),
    },
    ...(Object.keys(candidate).length > 0 ? { candidate } : {}),
    traffic: {
      ...obj(base.traffic),
      ...given({
        runsPerDay: opts.runsPerDay,
        candidateShare: opts.share,
        days: opts.days,
        splitBy: opts.splitBy,
        tenants: opts.tenants,
        tenantSpread: opts.tenantSpread,
      }),
    },
  };
}

export function registerPlanCommands(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description(
      'plan a rollout: how often its guardrails roll back an identical (or a given) candidate, how fast, and the time to a verdict (README: Planning a rollout)',
    )
    .option('-f, --file <path>', 'JSON body of POST /v1/rollouts/plan (- for stdin); flags override it')
    .option(
      '-g, --guardrail <spec>',
      'metric:limit=value,…, e.g. override_rate:maxIncrease=0.03,minSamples=100 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--guardrail-alpha <alpha>', 'shared by the guardrails (default 0.05)', num)
    .option('--alpha <alpha>', "the verdict's level (default 0.05)", num)
    .option('--override-rate <rate>', "the control's override rate (overridden / reviewed)", num)
    .option('--error-rate <rate>', "the control's error rate (default 0)", num)
    .option('--review-rate <rate>', 'reviewed / answered runs (default 1)', num)
    .option('--candidate-override-rate <rate>', "a hypothetical candidate's override rate (omitted: identical to the control)", num)
    .option('--candidate-error-rate <rate>', "a hypothetical candidate's error rate", num)
    .option('--candidate-review-rate <rate>', "a hypothetical candidate's review rate", num)
    .option('--runs-per-day <n>', 'runs per day through the stage', num)
    .option('--share <share>', 'candidate share, in (0, 1]', num)
    .option('--days <days>', 'how long the stage runs', num)
    .option('--split-by <unit|tenant>', 'assign runs (unit) or whole tenants (default unit)')
    .option('--tenants <n>', 'tenants in the stage (tenant splits)', num)
    .option('--tenant-spread <sd>', "SD of tenants' own override rates (tenant splits)", num)
    .option('--check-every <minutes>', 'how often the guardrail job looks (default 10)', num)
    .option('--simulations <n>', 'simulated rollouts (default 1000; the 30 s budget may run fewer)', num)
    .option('--seed <n>', 'same seed, same answer (default 1)', num)
    .action(
      withContext(io, async (ctx, opts: PlanOptions) => {
        const body = planBody(opts, opts.file !== undefined ? readJsonFile(opts.file) : undefined);
        ctx.print(await ctx.api().call('POST', '/v1/rollouts/plan', body), formatPlan);
      }),
    );
}
