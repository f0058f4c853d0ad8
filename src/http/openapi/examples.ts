/**
 * Examples for the main operations, keyed by operationId: what the README's "Try it by hand"
 * sends and gets back. tests/e2e/openapi.test.ts sends every request example to a real gateway,
 * so they stay valid.
 */
export interface OperationExample {
  request?: unknown;
  /** [status, body] */
  response?: [string, unknown];
}

const RUN_ID = '0b6f4c52-3c1e-4d8e-9a55-6d2f0f6d1a01';
const ROLLOUT_ID = '6f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e';

export const OPERATION_EXAMPLES: Record<string, OperationExample> = {
  putTenant: {
    request: { name: 'ACME' },
    response: ['201', { id: 'acme', name: 'ACME', createdAt: '2026-12-06T09:00:00.000Z', updatedAt: '2026-12-06T09:00:00.000Z' }],
  },
  createTenantKey: {
    request: { name: 'review-ui' },
    response: [
      '201',
      { id: '2a4c6e80-1b3d-4f5a-8c7e-9d0f1a2b3c4d', key: 'cc_tenant_k3Yp…(shown only here)', name: 'review-ui', tenantId: 'acme' },
    ],
  },
  putChain: {
    request: { description: 'Invoices: vendor, total, currency, date' },
  },
  createChainVersion: {
    request: { version: 'v1', adapter: { type: 'http', url: 'http://127.0.0.1:9000/invoke' } },
  },
  invokeChain: {
    request: {
      tenant: 'acme',
      environment: 'staging',
      input: { text: 'Invoice 1017 from ACME GmbH, total 42.50 EUR, dated 2026-01-31' },
      externalId: 'INV-1017',
    },
    response: [
      '200',
      {
        runId: RUN_ID,
        chain: 'invoice-extraction',
        version: 'v1',
        variant: 'default',
        output: { vendor: 'ACME GmbH', total: 42.5, currency: 'EUR', date: '2026-01-31' },
        latencyMs: 3.2,
      },
    ],
  },
  sendRunFeedback: {
    request: { final: { vendor: 'ACME GmbH', total: 43 }, reviewer: 'ann' },
    response: ['200', { runId: RUN_ID, overridden: true, fields: ['total'] }],
  },
  sendFeedbackByExternalId: {
    request: { chain: 'invoice-extraction', externalId: 'INV-1017', overrides: [{ field: 'total', value: 43 }] },
  },
  createRollout: {
    request: {
      chain: 'invoice-extraction',
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], tenants: ['acme'], percent: 50, splitBy: 'unit' },
      ],
      guardrails: [
        { metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 },
        { metric: 'error_rate', max: 0.02, minSamples: 50 },
        { metric: 'latency_p95_ms', max: 2000, minSamples: 50 },
      ],
    },
  },
  rollbackRollout: {
    request: { reason: 'reviewers report wrong totals' },
  },
  getRollout: {
    response: [
      '200',
      {
        id: ROLLOUT_ID,
        chain: 'invoice-extraction',
        control: 'v1',
        candidate: 'v2',
        status: 'running',
        stage: 0,
        flag: `chain-canary.invoice-extraction.${ROLLOUT_ID.slice(0, 8)}`,
        stages: [{ environments: ['staging'], tenants: ['acme'], percent: 100, splitBy: 'tenant' }],
        guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
        guardrailAlpha: 0.05,
        alpha: 0.05,
        fallbackToControl: true,
        onUnevaluable: 'warn',
        stageStartedAt: '2026-12-06T09:05:00.000Z',
        createdAt: '2026-12-06T09:05:00.000Z',
        updatedAt: '2026-12-06T09:05:00.000Z',
      },
    ],
  },
  planRollout: {
    request: {
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 }],
      guardrailAlpha: 0.05,
      control: { overrideRate: 0.1, errorRate: 0.01, reviewRate: 0.8 },
      candidate: { overrideRate: 0.18 },
      traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 14 },
      checkEveryMinutes: 10,
      simulations: 1000,
      seed: 1,
    },
    response: [
      '200',
      {
        fireProbability: { estimate: 1, ci: [0.9962, 1] },
        byGuardrail: [{ metric: 'override_rate', limit: 'maxIncrease', fireProbability: 1 }],
        timeToFire: { medianDays: 2.2917, p90Days: 5.1458, medianCandidateReviewed: 361, p90CandidateReviewed: 824 },
        verdict: { probabilityWorse: 1, probabilityBetter: 0, medianDaysToVerdict: 1.2847 },
        simulations: 1000,
        method:
          "Monte Carlo, 1000 simulated rollouts (seed 1). One stage, 2000 runs/day for 14 days, each run to the candidate with probability 0.1; errors, reviews and overrides drawn per run (binomial). Every 10 min the production guardrail code (evaluateGuardrails) decides on the running totals, and the production verdict (the always-valid interval's side of 0, decideVerdict) on the override rate; a rollout counts as rolled back at its first breached check; the verdict is followed to the end of the period even after a rollback.",
      },
    ],
  },
};
