/**
 * How the gateway logs a flag source that keeps failing (Unleash away, the embedded store's
 * database away): one warn line when the failure starts or changes, in one line without a stack
 * (the SDK's errors are network errors whose stack says nothing), then at most one reminder per
 * `repeatMs`; the failures between are at debug. /readyz says the same thing all along
 * (`flags.degraded`, `flags.detail`), so the log need not repeat it at every refresh.
 */
import type { Logger } from 'pino';

export function flagErrorLogger(log: Pick<Logger, 'warn' | 'debug'>, opts: { now?: () => number; repeatMs?: number } = {}) {
  const now = opts.now ?? Date.now;
  const repeatMs = opts.repeatMs ?? 5 * 60_000;
  let last: { message: string; at: number; repeats: number } | undefined;
  return (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    const t = now();
    if (last && last.message === message && t - last.at < repeatMs) {
      last.repeats += 1;
      log.debug({ flagError: message }, 'flag source still failing');
      return;
    }
    const repeats = last?.message === message ? last.repeats : 0;
    last = { message, at: t, repeats: 0 };
    log.warn(
      { flagError: message, ...(repeats ? { repeatsSinceLastWarning: repeats } : {}) },
      `flag source failing: ${message} (routing on the last known flags; see /readyz)`,
    );
  };
}
