/**
 * A typed in-process event bus: parts publish events by name (src/runtime/events.ts) and others
 * subscribe by name, instead of the composition root handing closures around (DESIGN.md pattern
 * 12; no broker inside one process). Delivery is synchronous, in subscription order; a listener
 * that throws is reported to `onError` and the others still run, so no subscriber can break the
 * publisher (the request path publishes RunFinished). Listeners that do slow work start it and
 * return (the guardrail job debounces, the webhook notifier sends in the background).
 */
import type { EventPublisher } from '../domain/ports/event-publisher.js';

type Listener<E> = (event: E) => void;

export class EventBus<Events extends object> implements EventPublisher<Events> {
  private readonly listeners = new Map<keyof Events, Listener<never>[]>();

  constructor(private readonly onError: (err: unknown, name: string) => void) {}

  /** Subscribes to one event by name; returns the unsubscribe function. */
  on<Name extends keyof Events & string>(name: Name, listener: Listener<Events[Name]>): () => void {
    const list = (this.listeners.get(name) ?? []) as Listener<Events[Name]>[];
    this.listeners.set(name, [...list, listener]);
    return () => {
      const now = (this.listeners.get(name) ?? []) as Listener<Events[Name]>[];
      this.listeners.set(
        name,
        now.filter((l) => l !== listener),
      );
    };
  }

  publish<Name extends keyof Events & string>(name: Name, event: Events[Name]): void {
    const list = this.listeners.get(name) as Listener<Events[Name]>[] | undefined;
    if (!list) return;
    for (const listener of list) {
      try {
        listener(event);
      } catch (err) {
        this.onError(err, name);
      }
    }
  }
}
