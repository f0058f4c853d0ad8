/**
 * Bench child: the LangServe-style upstream (tests/support/fake-upstream.ts, not recording),
 * answering `{"output": input}`, after UPSTREAM_DELAY_MS when set (a fast LLM).
 */
import { startFakeUpstream } from '../tests/support/fake-upstream.js';
import { serveChild } from './lib/children.js';

const delayMs = Number(process.env.UPSTREAM_DELAY_MS ?? 0);
const upstream = await startFakeUpstream({ record: false, behaviour: delayMs > 0 ? { delayMs } : {} });
serveChild({ url: upstream.url, origin: upstream.origin }, async () => {
  const calls = upstream.calls;
  const connections = upstream.connections;
  await upstream.close();
  return { calls, connections };
});
