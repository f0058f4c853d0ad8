/** The CLI's rendering of guardrail checks (each limit in the unit it was written in) and the example upstream's extraction. */
import { describe, expect, it } from 'vitest';
import { extractInvoice } from '../../../src/cli/example-upstream.js';
import { formatGuardrail } from '../../../src/cli/format.js';

const check = (over: Record<string, unknown>) => ({
  status: 'holding',
  samples: 120,
  minSamples: 100,
  bound: 0.01,
  threshold: 0.05,
  ...over,
});

describe('formatGuardrail', () => {
  it('a latency max reads in ms, with the share of slower runs it bounds', () => {
    expect(
      formatGuardrail(check({ metric: 'latency_p95_ms', limit: 'max', quantity: 'share_slower_than_max', maxMs: 2000, bound: 0.031 })),
    ).toBe('guardrail latency_p95_ms (limit 2000 ms): holding, bound 3.1% of runs slower than 2000 ms (5% allowed), 120 samples');
  });

  it('an increase reads in points, a rate in percent; one sample is singular; waiting says how many are needed', () => {
    expect(
      formatGuardrail(
        check({
          metric: 'override_rate',
          limit: 'maxIncrease',
          quantity: 'rate_difference',
          bound: -0.021,
          threshold: 0.03,
          status: 'waiting',
          samples: 1,
        }),
      ),
    ).toBe('guardrail override_rate (limit +3 points over control): waiting, bound −2.1 points, 1 sample (of 100 needed)');
    expect(
      formatGuardrail(check({ metric: 'error_rate', limit: 'max', quantity: 'rate', bound: 0.034, threshold: 0.02, status: 'breached' })),
    ).toBe('guardrail error_rate (limit 2%): breached, bound 3.4%, 120 samples');
  });

  it('no bound yet reads n/a', () => {
    expect(
      formatGuardrail(check({ metric: 'error_rate', limit: 'max', quantity: 'rate', bound: null, samples: 0, status: 'waiting' })),
    ).toBe('guardrail error_rate (limit 5%): waiting, bound n/a, 0 samples (of 100 needed)');
  });
});

describe('the example upstream', () => {
  const text = 'Invoice 1017 from ACME GmbH, total 1,234.50 EUR, dated 2026-01-31';

  it('v1 reads the fields; v2 takes the first number as the total', () => {
    expect(extractInvoice({ text })).toEqual({ vendor: 'ACME GmbH', total: 1234.5, currency: 'EUR', date: '2026-01-31' });
    expect(extractInvoice({ text }, 'v2')).toEqual({ vendor: 'ACME GmbH', total: 1017, currency: 'EUR', date: '2026-01-31' });
  });

  it('takes a plain string, decimal commas and currency symbols; missing fields are null', () => {
    expect(extractInvoice('Rechnung from Globex; Total: 42,50 €')).toEqual({ vendor: 'Globex', total: 42.5, currency: 'EUR', date: null });
    expect(extractInvoice({ other: 1 })).toEqual({ vendor: null, total: null, currency: null, date: null });
  });
});
