import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/domain/overrides/canonical-json.js';
import { diffFinal, diffOverrides } from '../../../src/domain/overrides/diff-overrides.js';
import { buildExpectation, type OutputRedaction } from '../../../src/domain/shadow/expectation.js';
import { scoreShadow } from '../../../src/domain/shadow/score-shadow.js';
import { foldFields, nameableFields } from '../../../src/domain/overrides/counted-fields.js';
import { redactOutput, type RedactionConfig } from '../../../src/redaction/redaction.js';

const hmac = (s: string) => createHmac('sha256', 'test-key').update(s).digest('base64url');
const hashValue = (v: unknown) => hmac(canonicalJson(v));
const noRedaction: OutputRedaction = (output) => ({ output });
const redactWith =
  (config: RedactionConfig): OutputRedaction =>
  (output) => {
    const r = redactOutput(output, config, hmac);
    return { output: r.stored, outputHashes: Object.keys(r.hashes).length > 0 ? r.hashes : undefined };
  };
const store = (output: unknown, config?: RedactionConfig) => {
  if (!config) return { output, outputHashes: null };
  const r = redactOutput(output, config, hmac);
  return { output: r.stored, outputHashes: Object.keys(r.hashes).length > 0 ? r.hashes : null };
};

const control = { total: 42, vendor: 'ACME GmbH', date: '2026-01-31' };

describe("the human's record of a control run", () => {
  it('covers the fields of `final`, and the whole output for `overrides`', () => {
    expect(buildExpectation(store(control), { final: { total: 43, vendor: 'ACME GmbH' } }, noRedaction)).toEqual({
      whole: false,
      fields: { total: 43, vendor: 'ACME GmbH' },
      hashes: {},
    });
    expect(
      buildExpectation(
        store(control),
        {
          overrides: [
            { field: 'total', value: 43 },
            { field: 'po', value: 'PO-1' },
          ],
        },
        noRedaction,
      ),
    ).toEqual({
      whole: false,
      fields: { total: 43, vendor: 'ACME GmbH', date: '2026-01-31', po: 'PO-1' },
      hashes: {},
    });
    expect(buildExpectation(store(control), { overrides: [] }, noRedaction).fields).toEqual(control);
    expect(buildExpectation(store('plain answer'), { final: 'better answer' }, noRedaction)).toEqual({
      whole: true,
      fields: { $: 'better answer' },
      hashes: {},
    });
    expect(buildExpectation(store('plain answer'), { overrides: [] }, noRedaction)).toEqual({
      whole: true,
      fields: { $: 'plain answer' },
      hashes: {},
    });
  });

  it('redacts what the human typed and keeps the control hash of a redacted value left as shown', () => {
    const config: RedactionConfig = { mode: 'patterns' };
    const out = { email: 'ann@example.com', total: 5 };
    const stored = store(out, config);
    expect(stored.output).toEqual({ email: '[REDACTED:email]', total: 5 });
    // The review tool sends the placeholder back untouched, and corrects the total to an e-mail (odd, but PII).
    const e = buildExpectation(stored, { final: { email: '[REDACTED:email]', total: 'bob@example.com' } }, redactWith(config));
    expect(e.fields).toEqual({ email: '[REDACTED:email]', total: '[REDACTED:email]' });
    expect(e.hashes).toEqual({ email: stored.outputHashes!.email, total: hashValue('bob@example.com') });
    expect(JSON.stringify(e)).not.toContain('example.com');
  });
});

describe('scoring a shadow output against the record', () => {
  it('agrees with the feedback rules when the human would have left the record as the candidate made it', () => {
    const cases: { candidate: unknown; body: { final: unknown } }[] = [
      { candidate: { total: 43, vendor: 'ACME GmbH', date: '2026-02-01' }, body: { final: { total: 43 } } },
      { candidate: { total: 42 }, body: { final: { total: 43, vendor: 'ACME GmbH' } } },
      { candidate: { total: 43, vendor: null }, body: { final: { total: 43, vendor: null } } },
      { candidate: { total: 43.0, extra: 1 }, body: { final: { total: 43 } } },
    ];
    for (const { candidate, body } of cases) {
      const e = buildExpectation(store(control), body, noRedaction);
      // The candidate is judged as if the human had sent the same `final` for the candidate's run.
      expect(scoreShadow(store(candidate), e, hashValue)).toEqual(diffFinal(candidate, body.final));
    }
  });

  it('judges the candidate on the fields the human covered, with `overrides` too', () => {
    const e = buildExpectation(store(control), { overrides: [{ field: 'total', value: 43 }] }, noRedaction);
    expect(scoreShadow(store({ total: 43, vendor: 'ACME GmbH', date: '2026-01-31' }), e, hashValue)).toEqual({
      overridden: false,
      fields: [],
    });
    expect(scoreShadow(store({ total: 43, vendor: 'ACME', date: '2026-01-31' }), e, hashValue)).toEqual({
      overridden: true,
      fields: ['vendor'],
    });
    // The control's diff for the same feedback, for the 2×2 table.
    expect(diffOverrides(control, [{ field: 'total', value: 43 }])).toEqual({ overridden: true, fields: ['total'] });
    expect(scoreShadow(store({ total: 43 }), e, hashValue)).toEqual({ overridden: true, fields: ['date', 'vendor'] });
  });

  it('handles outputs that are not records, and a candidate whose shape differs', () => {
    const whole = buildExpectation(store('plain answer'), { final: 'better answer' }, noRedaction);
    expect(scoreShadow(store('better answer'), whole, hashValue)).toEqual({ overridden: false, fields: [] });
    expect(scoreShadow(store('plain answer'), whole, hashValue)).toEqual({ overridden: true, fields: ['$'] });
    expect(scoreShadow(store({ answer: 'better answer' }), whole, hashValue)).toEqual({ overridden: true, fields: ['$'] });
    const fields = buildExpectation(store(control), { final: { total: 42, vendor: 'ACME GmbH' } }, noRedaction);
    expect(scoreShadow(store('no record'), fields, hashValue)).toEqual({ overridden: true, fields: ['total', 'vendor'] });
    expect(scoreShadow(store({ total: 1 }), buildExpectation(store(control), { final: {} }, noRedaction), hashValue)).toEqual({
      overridden: false,
      fields: [],
    });
  });

  it('compares redacted values by their hashes, on either side', () => {
    const config: RedactionConfig = { mode: 'patterns' };
    const stored = store({ email: 'ann@example.com', total: 5 }, config);
    // The human corrected the e-mail; the candidate found the right one, which is also stored redacted.
    const e = buildExpectation(stored, { final: { email: 'anne@example.com', total: 5 } }, redactWith(config));
    expect(scoreShadow(store({ email: 'anne@example.com', total: 5 }, config), e, hashValue)).toEqual({ overridden: false, fields: [] });
    expect(scoreShadow(store({ email: 'ann@example.com', total: 5 }, config), e, hashValue)).toEqual({
      overridden: true,
      fields: ['email'],
    });
    // The same placeholder on both sides does not make two different addresses equal.
    const kept = buildExpectation(stored, { overrides: [] }, redactWith(config));
    expect(scoreShadow(store({ email: 'eve@example.com', total: 5 }, config), kept, hashValue)).toEqual({
      overridden: true,
      fields: ['email'],
    });
    expect(scoreShadow(store({ email: 'ann@example.com', total: 5 }, config), kept, hashValue)).toEqual({ overridden: false, fields: [] });
    // A candidate value that is not redacted is hashed to compare with the record's hash.
    expect(scoreShadow(store({ email: 'ann@example.com', total: 5 }), kept, hashValue)).toEqual({ overridden: false, fields: [] });
  });
});

describe('names a reviewer invents (issue 19 item 1)', () => {
  it('count under $other on the candidate side, as on the control side', () => {
    const body = { final: { total: 43, invented1: 1, invented2: 2 } };
    const e = { ...buildExpectation(store(control), body, noRedaction), named: nameableFields(control, null) };
    expect(e.named).toEqual(['date', 'total', 'vendor']);
    expect(scoreShadow(store({ total: 43, vendor: 'ACME GmbH', date: '2026-01-31' }), e, hashValue)).toEqual({
      overridden: true,
      fields: ['$other'],
    });
    expect(foldFields(diffFinal(control, body.final).fields, e.named)).toEqual(['$other', 'total']);
  });

  it('follow the chain’s trackedFields when it declares them', () => {
    expect(nameableFields(control, ['vendor'])).toEqual(['vendor']);
    expect(foldFields(['total', 'vendor'], ['vendor'])).toEqual(['$other', 'vendor']);
    expect(foldFields([], ['vendor'])).toEqual([]);
  });
});
