/**
 * The planner's thread (README "Planning a rollout"): every plan of this gateway runs here, so
 * that no look of a simulated rollout, however heavy (on a tenant split a look reads every
 * tenant), holds the event loop that answers invokes. Plans that arrive together run at once on
 * this one thread, taking turns between slices (`runPlan` yields with setImmediate): together
 * they use one core whatever their number, and each still answers within its own budget.
 */
import { parentPort } from 'node:worker_threads';
import { runPlan } from '../../domain/planner/plan.js';
import { BACKGROUND_THREAD_NICENESS, yieldCoresFromThisThread } from '../thread-priority.js';
import type { PlanMessage, PlanReply, PlannerThreadReply, PlannerThreadRequest } from './protocol.js';

const port = parentPort!;
// A plan keeps a core busy for up to 30 s: the thread that answers calls gets the cores first
// (a plan squeezed out runs fewer simulations in its budget, and says so).
yieldCoresFromThisThread(BACKGROUND_THREAD_NICENESS);

const post = (reply: PlannerThreadReply) => port.postMessage(reply);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function plan(m: PlanMessage): Promise<void> {
  let reply: PlanReply;
  try {
    const answer = await runPlan(m.request, { now: () => performance.now(), yieldToLoop: nextTurn, budgetMs: m.budgetMs });
    reply = { op: 'answer', id: m.id, ok: true, answer };
  } catch (err) {
    reply = { op: 'answer', id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  post(reply);
}

port.on('message', (m: PlannerThreadRequest) => {
  if (m.op === 'close') post({ op: 'closed' });
  else void plan(m);
});
