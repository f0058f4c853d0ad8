/**
 * The ShadowCalls port: how the request path mirrors a control-served call to the candidate
 * (README "Shadow runs") without waiting for it. `plan` decides synchronously, before the control
 * run is recorded (the run keeps the shadow run's id); `start` runs the call after the answer;
 * `abandon` gives back a planned call that will not run. src/runtime/shadow-dispatcher.ts
 * implements it.
 */
import type { Run } from '../model/run.js';
import type { ShadowCall } from '../routing/shadow-selection.js';

export interface ShadowTicketRef {
  /** The shadow run's id. */
  readonly id: string;
}

export interface ShadowCalls<Ticket extends ShadowTicketRef = ShadowTicketRef> {
  plan(chainId: string, call: ShadowCall): Ticket | undefined;
  start(ticket: Ticket, control: Pick<Run, 'id' | 'tenantId' | 'environment' | 'stage' | 'createdAt'>, input: unknown): void;
  abandon(ticket: Ticket): void;
}
