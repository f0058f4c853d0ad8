/**
 * The EventPublisher port: how a part says that something happened, by name, without knowing who
 * listens. The runtime's in-process bus (src/runtime/event-bus.ts) implements it; delivery is
 * synchronous and a listener's failure never reaches the publisher.
 */
export interface EventPublisher<Events extends object> {
  publish<Name extends keyof Events & string>(name: Name, event: Events[Name]): void;
}
