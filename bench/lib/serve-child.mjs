/**
 * Child side of the bench's IPC (see children.ts): announce readiness, answer `mark`, `memory`
 * and `stats`, and stop on request. Plain JavaScript so that the gateway child runs the compiled
 * gateway without a TypeScript loader in the process, as `npm start` does.
 *
 * @param {{ url: string } & Record<string, unknown>} ready
 * @param {() => Promise<Record<string, unknown> | void>} onStop
 * @param {() => Record<string, unknown>} [stats]
 */
export function serveChild(ready, onStop, stats) {
  const send = (m) => new Promise((res) => process.send(m, () => res()));
  process.on('message', (m) => {
    if (m?.type === 'stop') {
      void (async () => {
        let extra;
        try {
          extra = await onStop();
        } catch (err) {
          extra = { error: String(err?.stack ?? err) };
        }
        await send({ type: 'stopped', ...(extra ?? {}) });
        process.exit(0);
      })();
    } else if (m?.type === 'mark') {
      // The monotonic clock in µs, the clock V8's CPU profiles are stamped with; and ms since the
      // process started, a few ms ahead of the time since V8 started that its GC trace prints.
      void send({ type: 'mark', us: Number(process.hrtime.bigint() / 1000n), ms: performance.now() });
    } else if (m?.type === 'memory') {
      void send({ type: 'memory', ...process.memoryUsage() });
    } else if (m?.type === 'stats') {
      void send({ type: 'stats', ...(stats?.() ?? {}) });
    }
  });
  // The bench went away (crash, Ctrl-C): do not linger.
  process.on('disconnect', () => process.exit(0));
  void send({ type: 'ready', ...ready });
}
