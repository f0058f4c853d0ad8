/**
 * The shadow calls' thread (README "Shadow runs"): the candidate's upstream calls run here, with
 * the shadow's own adapter registry (its own connection pools and circuit breakers), so that the
 * request, the parsing of the reply and their garbage live on this thread's event loop and heap,
 * not on the ones that answer customers. Only the call and its result cross
 * (thread-shadow-caller.ts is the other end); redaction, metrics and recording stay there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AdapterRegistry, type GuardedAdapter } from '../../adapters/adapter-registry.js';
import { UpstreamAllowList } from '../../adapters/upstream-allow.js';
import {
  toWireError,
  type CallReply,
  type CallRequest,
  type ShadowThreadData,
  type ShadowThreadReply,
  type ShadowThreadRequest,
} from './protocol.js';

const port = parentPort!;
const data = workerData as ShadowThreadData;

const registry = new AdapterRegistry({
  providers: data.providers,
  http: data.http,
  ...(data.upstreamAllow === undefined ? {} : { upstreamAllow: UpstreamAllowList.parse(data.upstreamAllow) }),
  // readEnv stays process.env at call time: the thread shares the gateway's environment (SHARE_ENV).
});

/** The definition each cached adapter was built from, as JSON. */
const builtFrom = new Map<string, Map<string, string>>();

/**
 * The version's adapter. Versions are immutable (the catalog refuses another definition for a
 * registered version), so the registry keeps one adapter per (chain, version) as the gateway's own
 * does; the definition comes with every call all the same, and should it ever differ from the one
 * the adapter was built from, that adapter is dropped and rebuilt rather than calling a stale URL.
 */
function adapterFor(m: CallRequest): GuardedAdapter {
  const json = JSON.stringify(m.def);
  let versions = builtFrom.get(m.chain);
  if (versions === undefined) builtFrom.set(m.chain, (versions = new Map<string, string>()));
  const known = versions.get(m.version);
  if (known !== json) {
    if (known !== undefined) void registry.evict(m.chain, m.version);
    versions.set(m.version, json);
  }
  return registry.get(m.chain, m.version, m.def);
}

const inFlight = new Set<Promise<void>>();

function post(reply: ShadowThreadReply): void {
  try {
    port.postMessage(reply);
  } catch (err) {
    // Only an error's details could fail to clone (outputs are parsed JSON): send it without them.
    if (reply.op === 'result' && !reply.ok) port.postMessage({ ...reply, error: { ...reply.error, details: undefined } });
    else if (reply.op === 'result')
      port.postMessage({ op: 'result', id: reply.id, ok: false, error: toWireError(err, false) } satisfies CallReply);
    else throw err;
  }
}

async function call(m: CallRequest): Promise<void> {
  let reply: CallReply;
  try {
    const r = await adapterFor(m).invoke(m.input, AbortSignal.timeout(m.timeoutMs));
    reply = { op: 'result', id: m.id, ok: true, output: r.output, upstreamMs: r.upstreamMs };
    if (r.usage !== undefined) reply.usage = r.usage;
  } catch (err) {
    reply = { op: 'result', id: m.id, ok: false, error: toWireError(err) };
  }
  post(reply);
}

async function close(): Promise<void> {
  // Closing the pools lets in-flight calls finish within the adapters' grace, then cuts them off;
  // each still answers (as failed) before `closed`, since messages arrive in order.
  await registry.closeAll();
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  post({ op: 'closed' });
}

port.on('message', (m: ShadowThreadRequest) => {
  if (m.op === 'close') {
    void close();
    return;
  }
  const done = call(m);
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
});
