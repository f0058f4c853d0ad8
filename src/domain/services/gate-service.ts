/**
 * The replay gate before stage 0 (README "Datasets, replays and the gate"): a gated rollout's
 * control and candidate are replayed on the gate's dataset, paired case by case, and the rollout
 * starts stage 0 when the one-sided upper bound of (candidate − control) at its alpha is at most
 * `maxIncrease`, or ends `gate_failed` when the lower bound is above it. A case whose candidate
 * call fails counts as the candidate overridden (a version must not pass by failing); a case whose
 * control call fails is left out (src/domain/replay/paired-comparison.ts, 'againstB'): without the
 * control's output it tells nothing about the candidate, and when both failed (an outage of a
 * shared upstream, an open circuit breaker) it is no evidence about either. The gate decides only
 * on at least `minCases` compared cases, and never passes on a replay whose calls mostly failed
 * (replay-gate-rule.ts).
 *
 * The shadow gate (README "Shadow runs") decides the same way on the rollout's scored shadow
 * pairs, once there are `minPairs`, with always-valid bounds (the pairs keep coming and the gate
 * looks every time). With both gates, both must pass; either failing fails the rollout.
 *
 * With `everyStage`, a running rollout's current stage is gated the same way on the pairs whose
 * control run was served in that stage (src/domain/shadow/stage-gate.ts): a pass is recorded once
 * per stage (`gate_passed` with `stage`; auto-advance and a manual advance wait for it), a fail
 * rolls the rollout back (`gate_failed` with `stage`, then `rolled_back`, in one transition).
 *
 * Every step is idempotent and re-read from the database, so the gate job may run it on any
 * replica, any number of times, after any restart: each replay is created once (unique by
 * rollout and version), the conclusion is a conditional transition (once), and an undecidable
 * gate, like a stage's pass, is reported once (looked up in the audit log first).
 */
import { BadRequestError, DuplicateError } from '../model/errors.js';
import type { GateFigures, GateState, ReplayGate, ShadowGate, ShadowGateFigures } from '../model/gate.js';
import type { Replay } from '../model/replay.js';
import type { Rollout, RolloutEvent } from '../model/rollout.js';
import type { RolloutSpec } from '../model/rollout-spec.js';
import type { DatasetRepository } from '../ports/dataset-repository.js';
import type { ReplayRepository } from '../ports/replay-repository.js';
import { comparePaired, pairedBounds } from '../replay/paired-comparison.js';
import { replayGateDecision } from '../replay/replay-gate-rule.js';
import { mcnemarExactPValue } from '../stats/mcnemar.js';
import { pairCount, type PairedCounts } from '../shadow/paired-interval.js';
import { shadowGateStatus } from '../shadow/shadow-report.js';
import { holdsEveryStage, stageGateDecision, stageGateEventStage } from '../shadow/stage-gate.js';
import type { ReplayService } from './replay-service.js';
import type { RolloutService } from './rollout-service.js';

export interface GateServiceDeps {
  datasets: DatasetRepository;
  replays: ReplayRepository;
  replayService: Pick<ReplayService, 'start' | 'cancel'>;
  rollouts: {
    concludeGate(id: string, outcome: 'passed' | 'failed', figures: Record<string, unknown>): Promise<Rollout | undefined>;
    record(rollout: Rollout, type: string, actor: string, reason?: string, data?: Record<string, unknown>): Promise<void>;
    events(id: string): Promise<RolloutEvent[]>;
    /** Rolls a rollout back when a stage's shadow gate fails. */
    act: RolloutService['act'];
  };
  /**
   * A rollout's scored shadow pairs (the shadow gate): all, or with `servedSince` those of the
   * stage that started then. Without it a shadow gate sees none.
   */
  shadowPairs?: (rolloutId: string, servedSince?: Date) => Promise<PairedCounts>;
}

export const GATE_METHOD = "paired: Newcombe's square-and-add interval (1998), one-sided at alpha; McNemar exact p";
const GATE_REPLAY_CONCURRENCY = 4;

export interface GateView {
  replay?: ReplayGate;
  /** The shadow gate as asked for, where it stands on its own, and its figures. */
  shadow?: { gate: ShadowGate; state: 'waiting' | 'passed' | 'failed'; figures: ShadowGateFigures };
  /** With `everyStage`, once stage 0 started: the current stage's shadow gate and its figures. */
  shadowStage?: StageShadowGateView;
  state: GateState;
  replays: { control?: { id: string; status: string }; candidate?: { id: string; status: string } };
  figures?: GateFigures;
  reason?: string;
}

/** The shadow gate of one stage: its pairs are those whose control run was served since `servedSince`. */
export interface StageShadowGateView {
  stage: number;
  servedSince: string;
  state: 'waiting' | 'passed' | 'failed';
  figures: ShadowGateFigures;
}

export class GateService {
  constructor(private readonly deps: GateServiceDeps) {}

  /** Refuses a gate that cannot be met (400), before the rollout is created. */
  async validate(spec: Pick<RolloutSpec, 'chain' | 'gate'>): Promise<void> {
    const gate = spec.gate?.replay;
    if (!gate) return;
    const dataset = await this.deps.datasets.get(gate.dataset);
    if (!dataset)
      throw new BadRequestError(`body.gate.replay.dataset: dataset '${gate.dataset}' does not exist`, { field: 'gate.replay.dataset' });
    if (dataset.chain !== spec.chain) {
      throw new BadRequestError(`body.gate.replay.dataset: the dataset is of chain '${dataset.chain}', not '${spec.chain}'`, {
        field: 'gate.replay.dataset',
      });
    }
    if (dataset.cases < gate.minCases) {
      throw new BadRequestError(
        `body.gate.replay.dataset: it has ${dataset.cases} cases; the gate needs at least minCases = ${gate.minCases}`,
        {
          field: 'gate.replay.dataset',
          cases: dataset.cases,
          minCases: gate.minCases,
        },
      );
    }
  }

  /**
   * One step of a rollout's gate: start what is missing, decide when both replays are done. For a
   * rollout no longer gated, stop its gate replays.
   */
  async check(rollout: Rollout): Promise<void> {
    const gate = rollout.spec.gate;
    if (!gate) return;
    if (rollout.status !== 'gated') {
      if (gate.replay) {
        for (const r of await this.deps.replays.list({ rolloutId: rollout.id }))
          if (r.status === 'queued' || r.status === 'running') await this.deps.replayService.cancel(r.id).catch(() => undefined);
      }
      if (gate.shadow && rollout.status === 'running' && holdsEveryStage(rollout.spec)) await this.checkStage(rollout, gate.shadow);
      return;
    }
    const replay = gate.replay ? await this.replayOutcome(rollout, gate.replay) : undefined;
    const shadow = gate.shadow ? await this.shadowOutcome(rollout, gate.shadow) : undefined;
    const parts = [replay, shadow].filter((p) => p !== undefined);
    // The replay's figures where they always were; the shadow gate's beside them.
    const data = { ...(replay?.figures ?? {}), ...(shadow ? { shadow: shadow.figures } : {}) };
    if (parts.some((p) => p.outcome === 'failed')) await this.deps.rollouts.concludeGate(rollout.id, 'failed', data);
    else if (parts.every((p) => p.outcome === 'passed')) await this.deps.rollouts.concludeGate(rollout.id, 'passed', data);
    // A replay that cannot decide is final; a shadow gate still counting may yet fail the rollout.
    else if (replay?.outcome === 'inconclusive' && shadow?.outcome !== 'pending')
      await this.inconclusive(rollout, replay.reason, replay.figures);
  }

  /**
   * One step of the current stage's shadow gate (`everyStage`): nothing once the stage's gate has
   * decided; a pass is recorded once (the advance waits for it); a fail rolls the rollout back with
   * its evidence in the same conditional transition (once, whoever finds it). A rollout a person
   * advanced in between is still rolled back: the evidence that the candidate is worse stands.
   */
  private async checkStage(rollout: Rollout, gate: ShadowGate): Promise<void> {
    const stage = rollout.stage;
    if (stageGateDecision(await this.deps.rollouts.events(rollout.id), stage)) return;
    const figures = await this.shadowFigures(rollout, gate, rollout.stageStartedAt);
    const status = shadowGateStatus(figures, gate, figures.alpha).status;
    if (status === 'waiting') return;
    const data = { stage, shadow: figures };
    const bounds = `candidate − control ${signed(figures.estimate)} (one-sided bounds ${signed(figures.lowerBound)} to ${signed(figures.upperBound)}) on ${figures.pairs} shadow pairs, maxIncrease ${figures.maxIncrease}`;
    if (status === 'passed') {
      const reason = `The shadow gate of stage ${stage} passed: ${bounds}.`;
      await this.deps.rollouts.record(rollout, 'gate_passed', 'gate', reason, data);
      return;
    }
    const reason = `The shadow gate of stage ${stage} failed: ${bounds}; the lower bound is above maxIncrease.`;
    await this.deps.rollouts.act(rollout.id, 'rollback', 'gate', reason, data, { type: 'gate_failed', reason, data });
  }

  /** The replay gate on its own: still replaying, decided, or unable to decide. */
  private async replayOutcome(rollout: Rollout, gate: ReplayGate): Promise<GateOutcome<GateFigures>> {
    const replays = await this.deps.replays.list({ rolloutId: rollout.id });
    const control = replays.find((r) => r.version === rollout.control) ?? (await this.startReplay(rollout, gate, rollout.control));
    const candidate = replays.find((r) => r.version === rollout.candidate) ?? (await this.startReplay(rollout, gate, rollout.candidate));
    const startAgain = `Roll this rollout back (POST /v1/rollouts/${rollout.id}/rollback) and create it again, or start it without the gate: POST /v1/rollouts/${rollout.id}/advance {"override": true, "reason": "…"}.`;
    if (!control || !candidate)
      return { outcome: 'inconclusive', reason: `The gate's dataset is gone: its replays cannot run. ${startAgain}` };
    const finished = (r: Replay) => r.status === 'done' || r.status === 'cancelled' || r.status === 'failed';
    if (!finished(control) || !finished(candidate)) return { outcome: 'pending' };
    if (control.status !== 'done' || candidate.status !== 'done') {
      const ended = control.status !== 'done' ? control : candidate;
      return { outcome: 'inconclusive', reason: `A gate replay (${ended.id}) ended ${ended.status}. ${startAgain}` };
    }
    const figures = await this.figures(rollout, gate, control, candidate);
    const decision = replayGateDecision(figures, gate, rollout);
    return decision.outcome === 'inconclusive'
      ? { outcome: 'inconclusive', reason: decision.reason, figures }
      : { outcome: decision.outcome, figures };
  }

  /** The shadow gate on its own: waiting for pairs (or for the bounds to clear maxIncrease), or decided. */
  private async shadowOutcome(rollout: Rollout, gate: ShadowGate): Promise<GateOutcome<ShadowGateFigures>> {
    const figures = await this.shadowFigures(rollout, gate);
    const status = shadowGateStatus(figures, gate, figures.alpha).status;
    return status === 'waiting' ? { outcome: 'pending', figures } : { outcome: status, figures };
  }

  /** The shadow gate's figures on every scored pair, or on the pairs served since `servedSince` (a stage's). */
  private async shadowFigures(rollout: Rollout, gate: ShadowGate, servedSince?: Date): Promise<ShadowGateFigures> {
    const t = (await this.deps.shadowPairs?.(rollout.id, servedSince)) ?? {
      bothOk: 0,
      onlyControlOverridden: 0,
      onlyCandidateOverridden: 0,
      bothOverridden: 0,
    };
    const alpha = rollout.spec.alpha;
    const pairs = pairCount(t);
    const s = shadowGateStatus(t, gate, alpha);
    return {
      pairs,
      minPairs: gate.minPairs,
      bothOk: t.bothOk,
      onlyControlOverridden: t.onlyControlOverridden,
      onlyCandidateOverridden: t.onlyCandidateOverridden,
      bothOverridden: t.bothOverridden,
      controlOverrideRate: pairs === 0 ? 0 : (t.onlyControlOverridden + t.bothOverridden) / pairs,
      candidateOverrideRate: pairs === 0 ? 0 : (t.onlyCandidateOverridden + t.bothOverridden) / pairs,
      estimate: s.estimate,
      lowerBound: s.lowerBound,
      upperBound: s.upperBound,
      maxIncrease: gate.maxIncrease,
      alpha,
      mcnemarPValue: mcnemarExactPValue(t.onlyControlOverridden, t.onlyCandidateOverridden),
      method: `shadow pairs: ${s.method} at alpha; McNemar exact p`,
    };
  }

  /** The gate's state and figures, for GET /v1/rollouts/{id}. */
  async view(rollout: Rollout): Promise<GateView | undefined> {
    const gate = rollout.spec.gate?.replay;
    const shadowGate = rollout.spec.gate?.shadow;
    if (!gate && !shadowGate) return undefined;
    const replays = gate ? await this.deps.replays.list({ rolloutId: rollout.id }) : [];
    const control = replays.find((r) => r.version === rollout.control);
    const candidate = replays.find((r) => r.version === rollout.candidate);
    const finished = (r: Replay | undefined) => r?.status === 'done' || r?.status === 'cancelled' || r?.status === 'failed';
    const view: GateView = {
      ...(gate ? { replay: gate } : {}),
      // Once both replays have finished, a gate beside a shadow gate waits for the shadow gate.
      state: gate && !(shadowGate && finished(control) && finished(candidate)) ? 'replaying' : 'waiting',
      replays: {
        ...(control ? { control: { id: control.id, status: control.status } } : {}),
        ...(candidate ? { candidate: { id: candidate.id, status: candidate.status } } : {}),
      },
    };
    const events = await this.deps.rollouts.events(rollout.id);
    // The gate before stage 0: a stage's own gate events, and overrides of a stage's gate, are not its.
    const beforeStart = events.filter((e) => stageGateEventStage(e) === undefined);
    const decided = [...beforeStart]
      .reverse()
      .find(
        (e) =>
          ['gate_passed', 'gate_failed', 'gate_inconclusive'].includes(e.type) ||
          (e.type === 'advanced' && e.data?.override === true && (e.data.before as { status?: string } | undefined)?.status === 'gated'),
      );
    if (decided?.type === 'gate_passed') view.state = 'passed';
    else if (decided?.type === 'gate_failed') view.state = 'failed';
    else if (decided?.type === 'advanced') view.state = 'overridden';
    else if (rollout.status === 'rolled_back' && beforeStart.every((e) => e.type !== 'gate_passed')) view.state = 'abandoned';
    else if (decided?.type === 'gate_inconclusive') view.state = 'inconclusive';
    if (decided?.type === 'advanced' && decided.reason) view.reason = decided.reason;
    else if (decided?.reason) view.reason = decided.reason;
    if (gate && control?.status === 'done' && candidate?.status === 'done')
      view.figures = await this.figures(rollout, gate, control, candidate);
    if (shadowGate) {
      // Once decided, the figures it decided on (shadow calls in flight then still land after).
      const atDecision =
        decided?.type === 'gate_passed' || decided?.type === 'gate_failed'
          ? (decided.data?.shadow as ShadowGateFigures | undefined)
          : undefined;
      const figures = atDecision ?? (await this.shadowFigures(rollout, shadowGate));
      view.shadow = { gate: shadowGate, state: shadowGateStatus(figures, shadowGate, figures.alpha).status, figures };
      if (holdsEveryStage(rollout.spec) && rollout.status !== 'gated' && rollout.status !== 'gate_failed')
        view.shadowStage = await this.stageView(rollout, shadowGate, events);
    }
    return view;
  }

  /** The current stage's shadow gate: as decided (the figures it decided on), else as it stands. */
  private async stageView(rollout: Rollout, gate: ShadowGate, events: RolloutEvent[]): Promise<StageShadowGateView> {
    const decision = stageGateDecision(events, rollout.stage);
    const figures =
      (decision?.data?.shadow as ShadowGateFigures | undefined) ?? (await this.shadowFigures(rollout, gate, rollout.stageStartedAt));
    const state = decision
      ? decision.type === 'gate_passed'
        ? 'passed'
        : 'failed'
      : shadowGateStatus(figures, gate, figures.alpha).status;
    return { stage: rollout.stage, servedSince: rollout.stageStartedAt.toISOString(), state, figures };
  }

  private async startReplay(rollout: Rollout, gate: ReplayGate, version: string): Promise<Replay | undefined> {
    try {
      return await this.deps.replayService.start(gate.dataset, { version, concurrency: GATE_REPLAY_CONCURRENCY, repeats: 1 }, rollout.id);
    } catch (err) {
      // Another replica started it first: use that one.
      if (err instanceof DuplicateError)
        return (await this.deps.replays.list({ rolloutId: rollout.id })).find((r) => r.version === version);
      if ((err as { statusCode?: number }).statusCode === 404 || (err as { statusCode?: number }).statusCode === 409) return undefined;
      throw err;
    }
  }

  private async figures(rollout: Rollout, gate: ReplayGate, control: Replay, candidate: Replay): Promise<GateFigures> {
    const [a, b] = await Promise.all([this.deps.replays.scored(control.id), this.deps.replays.scored(candidate.id)]);
    // a = control, b = candidate: the candidate's failures count against it, the control's are left out.
    const c = comparePaired(a, b, { errors: 'againstB' });
    const alpha = rollout.spec.alpha;
    const bounds = pairedBounds(c, alpha);
    return {
      pairs: c.pairs,
      bothOk: c.bothOk,
      onlyControlOverridden: c.onlyAOverridden,
      onlyCandidateOverridden: c.onlyBOverridden,
      bothOverridden: c.bothOverridden,
      // Without pairs there is no rate; the figures keep the shadow gate's numeric shape (pairs: 0 says it).
      controlOverrideRate: c.aOverrideRate ?? 0,
      candidateOverrideRate: c.bOverrideRate ?? 0,
      estimate: bounds.estimate,
      lowerBound: bounds.lower,
      upperBound: bounds.upper,
      maxIncrease: gate.maxIncrease,
      alpha,
      mcnemarPValue: c.mcnemarPValue,
      errors: { control: c.errors.a + c.errors.both, candidate: c.errors.b + c.errors.both },
      replays: { control: control.id, candidate: candidate.id },
      method: GATE_METHOD,
    };
  }

  /** Reports once that the gate cannot decide; the rollout stays gated for a person to decide. */
  private async inconclusive(rollout: Rollout, reason: string, figures?: GateFigures): Promise<void> {
    const events = await this.deps.rollouts.events(rollout.id);
    if (events.some((e) => e.type === 'gate_inconclusive')) return;
    await this.deps.rollouts.record(rollout, 'gate_inconclusive', 'gate', reason, figures ? { ...figures } : undefined);
  }
}

/** A difference with its sign, to four decimals (a reason names the figures). */
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/** One gate's answer on its own (a rollout may have a replay gate, a shadow gate, or both). */
type GateOutcome<F> =
  | { outcome: 'pending'; figures?: F }
  | { outcome: 'passed' | 'failed'; figures: F }
  | { outcome: 'inconclusive'; reason: string; figures?: F };
