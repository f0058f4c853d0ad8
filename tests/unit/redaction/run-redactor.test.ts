import { describe, expect, it } from 'vitest';
import type { Run } from '../../../src/domain/model/run.js';
import type { RedactionConfig } from '../../../src/redaction/redaction.js';
import { RunRedactor } from '../../../src/redaction/run-redactor.js';

const run = (over: Partial<Run> = {}): Run => ({
  id: '00000000-0000-4000-8000-000000000001',
  chainId: 'c',
  version: 'v1',
  variant: 'candidate',
  rolloutId: '00000000-0000-4000-8000-000000000002',
  stage: 0,
  assignmentKey: 'acme/u@example.com',
  tenantId: 'acme',
  environment: 'prod',
  unit: 'u@example.com',
  externalId: 'x@example.com',
  metadata: { who: 'm@example.com', n: 1 },
  input: { mail: 'i@example.com' },
  output: null,
  outputHashes: null,
  error: { code: 'upstream_failed', message: 'The upstream answered HTTP 500.', details: { status: 500, body: 'bad input i@example.com' } },
  fallback: false,
  latencyMs: 1,
  upstreamMs: 1,
  promptTokens: null,
  completionTokens: null,
  idempotencyKey: null,
  createdAt: new Date(0),
  ...over,
});

const redactorWith = (config: RedactionConfig | undefined) => new RunRedactor(() => config, Buffer.alloc(32, 7));

describe('RunRedactor.redactRun', () => {
  it('leaves a run of a chain without redaction untouched (the same object)', () => {
    const r = run();
    expect(redactorWith(undefined).redactRun(r)).toBe(r);
    expect(redactorWith({ mode: 'off' }).redactRun(r)).toBe(r);
  });

  it('patterns: scans metadata and the error, hashes ids and the unit in its assignment key, does not change the run it got', () => {
    const r = run();
    const before = JSON.stringify(r);
    const s = redactorWith({ mode: 'patterns' }).redactRun(r);
    expect(JSON.stringify(r)).toBe(before);
    expect(JSON.stringify(s)).not.toContain('@example.com');
    expect(s.metadata).toEqual({ who: '[REDACTED:email]', n: 1 });
    expect(s.error).toEqual({
      code: 'upstream_failed',
      message: 'The upstream answered HTTP 500.',
      details: { status: 500, body: 'bad input [REDACTED:email]' },
    });
    expect(s.externalId).toMatch(/^hmac:/);
    expect(s.unit).toMatch(/^hmac:/);
    expect(s.assignmentKey).toBe(`acme/${s.unit}`);
    // Deterministic: the same id, the same hash; another id, another hash; the key matters.
    const again = redactorWith({ mode: 'patterns' }).redactRun(run());
    expect(again.externalId).toBe(s.externalId);
    expect(redactorWith({ mode: 'patterns' }).redactRun(run({ externalId: 'y@example.com' })).externalId).not.toBe(s.externalId);
    expect(new RunRedactor(() => ({ mode: 'patterns' }), Buffer.alloc(32, 8)).redactRun(run()).externalId).not.toBe(s.externalId);
  });

  it('patterns: a tenant-level assignment key is kept; a lookup hashes as the store did', () => {
    const red = redactorWith({ mode: 'patterns' });
    const s = red.redactRun(run({ assignmentKey: 'acme' }));
    expect(s.assignmentKey).toBe('acme');
    expect(red.storedExternalId('c', 'x@example.com')).toBe(s.externalId);
    expect(red.storedExternalIdForms('x@example.com')).toEqual(['x@example.com', s.externalId]);
    expect(red.storedExternalIdForms(s.externalId!)).toEqual([s.externalId]);
    expect(red.reviewer('c', 'ann <ann@example.com>')).toBe('ann <[REDACTED:email]>');
    expect(red.reviewer('c', undefined)).toBeNull();
  });

  it('paths: drops the error excerpt, keeps ids, metadata and the reviewer', () => {
    const red = redactorWith({ mode: 'paths', paths: ['mail'] });
    const s = red.redactRun(run());
    expect(s.input).toEqual({ mail: '[REDACTED:path]' });
    expect((s.error!.details as { body: string }).body).toBe('[REDACTED:path_mode]');
    expect(s.externalId).toBe('x@example.com');
    expect(s.metadata).toEqual(run().metadata);
    expect(red.storedExternalId('c', 'x@example.com')).toBe('x@example.com');
    expect(red.reviewer('c', 'a@example.com')).toBe('a@example.com');
  });
});
