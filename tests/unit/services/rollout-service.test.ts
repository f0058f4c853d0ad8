/** RolloutService on in-memory ports: validation, the lifecycle's state machine, races, flags, audit. */
import { describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError, NotFoundError } from '../../../src/domain/model/errors.js';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';
import { CHAIN, world, type World } from '../../support/in-memory/world.js';

const spec = (extra: Partial<RolloutSpecInput> = {}) =>
  rolloutSpecSchema.parse({
    chain: CHAIN,
    control: 'v1',
    candidate: 'v2',
    stages: [
      { environments: ['staging'], percent: 100 },
      { environments: ['prod'], percent: 10, splitBy: 'unit' },
    ],
    ...extra,
  });

const ACTOR = 'admin:test';

async function created(w: World, extra: Partial<RolloutSpecInput> = {}) {
  return w.rollouts.create(spec(extra), ACTOR);
}

describe('RolloutService', () => {
  it('creates a rollout at stage 0: stored, audited, flagged, routing here at once, and told', async () => {
    const w = await world();
    const r = await created(w);
    expect(r).toMatchObject({ chainId: CHAIN, control: 'v1', candidate: 'v2', status: 'running', stage: 0, stageStartedAt: w.now() });
    expect(r.spec.stages).toHaveLength(2);
    expect(await w.rollouts.get(r.id)).toEqual(r);
    expect(w.active.activeFor(CHAIN)?.id).toBe(r.id);
    expect(w.active.hasActive(CHAIN)).toBe(true);
    expect(w.flags.flags.get(r.flag)).toMatchObject({ enabled: true, stages: [{ environments: ['staging'], percent: 100 }] });
    expect((await w.rollouts.events(r.id)).map((e) => [e.type, e.actor])).toEqual([['created', ACTOR]]);
    expect(w.told.rollout.map((e) => e.type)).toEqual(['created']);
  });

  it('refuses versions that do not exist, a control that is not current, and a candidate equal to the control', async () => {
    const w = await world();
    await expect(created(w, { candidate: 'v9' })).rejects.toMatchObject({ statusCode: 400, details: { field: 'candidate' } });
    await expect(created(w, { control: 'v2', candidate: 'v1' })).rejects.toMatchObject({
      statusCode: 400,
      details: { field: 'control', current: 'v1' },
    });
    await expect(created(w, { candidate: 'v1' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(created(w, { chain: 'nothing' })).rejects.toBeInstanceOf(NotFoundError);
    expect(w.flags.flags.size).toBe(0);
    expect(w.rolloutRepo.rollouts.size).toBe(0);
  });

  it('allows one running or paused rollout per chain, also when another replica created it first', async () => {
    const w = await world();
    const first = await created(w);
    await expect(created(w)).rejects.toMatchObject({ statusCode: 409, details: { rolloutId: first.id } });

    // Another replica creates one after this one looked and before it inserts (while it writes
    // the flag): the store's DuplicateError is a 409, and the new flag is retired.
    await w.rollouts.act(first.id, 'rollback', ACTOR);
    const theirs = await created(await world());
    w.flags.beforePut = () => w.rolloutRepo.rollouts.set(theirs.id, theirs);
    const err = await created(w).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ message: expect.stringContaining('already has a gated, running or paused rollout') });
    expect(w.flags.retired).toHaveLength(1);
  });

  it('walks the lifecycle: advance, pause, resume, promote; repeating an action is a no-op', async () => {
    const w = await world();
    const r = await created(w);
    w.clock.now = new Date(w.clock.now.getTime() + 60_000);
    const advanced = await w.rollouts.act(r.id, 'advance', ACTOR, 'staging looks fine');
    expect(advanced).toMatchObject({ changed: true, rollout: { status: 'running', stage: 1, stageStartedAt: w.now() } });
    expect(w.flags.flags.get(r.flag)?.stages).toHaveLength(2);
    await expect(w.rollouts.act(r.id, 'advance', ACTOR)).rejects.toMatchObject({ statusCode: 409, details: { stage: 1 } });

    const paused = await w.rollouts.act(r.id, 'pause', ACTOR);
    expect(paused.rollout.status).toBe('paused');
    expect(w.flags.flags.get(r.flag)?.enabled).toBe(false);
    expect(w.active.activeFor(CHAIN)?.status).toBe('paused');
    expect((await w.rollouts.act(r.id, 'pause', ACTOR)).changed).toBe(false);
    await expect(w.rollouts.act(r.id, 'advance', ACTOR)).rejects.toBeInstanceOf(ConflictError);
    expect((await w.rollouts.act(r.id, 'resume', ACTOR)).rollout).toMatchObject({ status: 'running', stage: 1 });
    await expect(w.rollouts.act(r.id, 'resume', ACTOR)).resolves.toMatchObject({ changed: false });

    const promoted = await w.rollouts.act(r.id, 'promote', ACTOR);
    expect(promoted.rollout.status).toBe('promoted');
    expect(w.catalog.chain(CHAIN)?.currentVersion).toBe('v2');
    expect(w.rolloutRepo.promoted.get(CHAIN)).toBe('v2');
    expect(w.flags.retired).toEqual([r.flag]);
    expect(w.active.hasActive(CHAIN)).toBe(false);
    await expect(w.rollouts.act(r.id, 'rollback', ACTOR)).rejects.toMatchObject({ statusCode: 409, details: { status: 'promoted' } });

    const events = await w.rollouts.events(r.id);
    expect(events.map((e) => e.type)).toEqual(['created', 'advanced', 'paused', 'resumed', 'promoted']);
    expect(events[1]).toMatchObject({
      reason: 'staging looks fine',
      data: { before: { status: 'running', stage: 0 }, after: { status: 'running', stage: 1 } },
    });
    expect(w.told.rollout.map((e) => e.type)).toEqual(events.map((e) => e.type));
  });

  it('writes the evidence before the rollback, in one transition, and tells both', async () => {
    const w = await world();
    const r = await created(w);
    const breach = { type: 'guardrail_breached', reason: 'override_rate', data: { bound: 0.07 } };
    const { changed, rollout } = await w.rollouts.act(r.id, 'rollback', 'guardrail', 'override_rate', { guardrails: [] }, breach);
    expect(changed).toBe(true);
    expect(rollout.status).toBe('rolled_back');
    expect((await w.rollouts.events(r.id)).map((e) => e.type)).toEqual(['created', 'guardrail_breached', 'rolled_back']);
    expect(w.told.rollout.map((e) => e.type)).toEqual(['created', 'guardrail_breached', 'rolled_back']);
    expect(w.flags.flags.get(r.flag)?.enabled).toBe(false);
    // A second finder of the same breach changes nothing and writes nothing.
    expect((await w.rollouts.act(r.id, 'rollback', 'guardrail', 'again', undefined, breach)).changed).toBe(false);
    expect(await w.rollouts.events(r.id)).toHaveLength(3);
  });

  it('looks again when someone else changed the rollout between its read and its write', async () => {
    const w = await world();
    const r = await created(w);
    let raced = false;
    w.rolloutRepo.beforeTransition = (id) => {
      if (raced) return;
      raced = true;
      const current = w.rolloutRepo.rollouts.get(id)!;
      w.rolloutRepo.rollouts.set(id, { ...current, status: 'paused' }); // another replica paused it
    };
    const { rollout, changed } = await w.rollouts.act(r.id, 'rollback', ACTOR);
    expect(changed).toBe(true);
    expect(rollout.status).toBe('rolled_back');
    expect((await w.rollouts.events(r.id)).at(-1)?.data).toMatchObject({ before: { status: 'paused' } });

    // One that keeps changing it: a 409 after a few looks.
    const r2 = await created(w);
    w.rolloutRepo.beforeTransition = (id) => {
      const current = w.rolloutRepo.rollouts.get(id)!;
      w.rolloutRepo.rollouts.set(id, { ...current, stage: current.stage + 1 });
    };
    await expect(w.rollouts.act(r2.id, 'pause', ACTOR)).rejects.toMatchObject({
      statusCode: 409,
      message: expect.stringContaining('kept changing'),
    });
  });

  it('keeps an action when the flag store is away: routing here follows it, the flag is written later', async () => {
    const w = await world();
    const r = await created(w);
    w.flags.failure = new Error('unleash unreachable');
    const { rollout } = await w.rollouts.act(r.id, 'pause', ACTOR);
    expect(rollout.status).toBe('paused');
    expect(w.active.activeFor(CHAIN)?.status).toBe('paused');
    expect(w.flags.flags.get(r.flag)?.enabled).toBe(true); // not written yet
  });

  it('records events that are not state changes, and answers 404 for an unknown rollout', async () => {
    const w = await world();
    const r = await created(w);
    await w.rollouts.record(r, 'webhook_failed', 'webhook', 'HTTP 500', { url: 'http://127.0.0.1:9/hook' });
    expect((await w.rollouts.events(r.id)).at(-1)).toMatchObject({
      type: 'webhook_failed',
      actor: 'webhook',
      reason: 'HTTP 500',
      data: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(w.told.rollout.at(-1)?.type).toBe('webhook_failed');
    await expect(w.rollouts.get('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.rollouts.events('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('follows other replicas on load: their new rollouts and their endings', async () => {
    const w = await world();
    const r = await created(w);
    const stored = w.rolloutRepo.rollouts.get(r.id)!;
    w.rolloutRepo.rollouts.set(r.id, { ...stored, status: 'rolled_back', updatedAt: new Date(stored.updatedAt.getTime() + 1) });
    await w.rollouts.load();
    expect(w.active.hasActive(CHAIN)).toBe(false);
    expect(await w.rollouts.list()).toHaveLength(1);
  });
});
