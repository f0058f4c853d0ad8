/**
 * The messages between the gateway's thread (thread-plan-runner.ts) and the planner's thread
 * (planner-thread-worker.ts). Everything here is structured-cloned: a plan request (zod's output:
 * plain data) out, its answer back.
 */
import type { PlanRequest } from '../../domain/model/plan-request.js';
import type { PlanAnswer } from '../../domain/planner/plan.js';

export interface PlanMessage {
  op: 'plan';
  id: number;
  request: PlanRequest;
  budgetMs: number;
}

/** Plans hold nothing to flush: the thread answers `closed` at once, and its owner fails what is pending. */
export interface CloseRequest {
  op: 'close';
}

export type PlannerThreadRequest = PlanMessage | CloseRequest;

export type PlanReply =
  { op: 'answer'; id: number; ok: true; answer: PlanAnswer } | { op: 'answer'; id: number; ok: false; message: string };

export type PlannerThreadReply = PlanReply | { op: 'closed' };
