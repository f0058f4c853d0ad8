/** The in-process bus: delivery by name, in order, and no listener can break a publisher. */
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/runtime/event-bus.js';

interface Events {
  Ping: { n: number };
  Pong: { s: string };
}

describe('EventBus', () => {
  it('delivers an event to the listeners of its name, in subscription order, and none other', () => {
    const bus = new EventBus<Events>(() => {});
    const got: string[] = [];
    bus.on('Ping', (e) => got.push(`a${e.n}`));
    bus.on('Pong', (e) => got.push(`pong ${e.s}`));
    bus.on('Ping', (e) => got.push(`b${e.n}`));
    bus.publish('Ping', { n: 1 });
    expect(got).toEqual(['a1', 'b1']);
  });

  it('reports a listener that throws and still runs the others', () => {
    const errors: [unknown, string][] = [];
    const bus = new EventBus<Events>((err, name) => errors.push([err, name]));
    const got: number[] = [];
    bus.on('Ping', () => {
      throw new Error('listener broke');
    });
    bus.on('Ping', (e) => got.push(e.n));
    expect(() => bus.publish('Ping', { n: 2 })).not.toThrow();
    expect(got).toEqual([2]);
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe('Ping');
    expect((errors[0]![0] as Error).message).toBe('listener broke');
  });

  it('stops delivering to a listener that unsubscribed', () => {
    const bus = new EventBus<Events>(() => {});
    const got: number[] = [];
    const off = bus.on('Ping', (e) => got.push(e.n));
    bus.publish('Ping', { n: 1 });
    off();
    bus.publish('Ping', { n: 2 });
    expect(got).toEqual([1]);
    expect(() => bus.publish('Pong', { s: 'nobody listens' })).not.toThrow();
  });
});
