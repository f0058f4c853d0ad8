/**
 * A LangServe-style upstream for tests and benchmarks: a real HTTP server on 127.0.0.1 that
 * answers any POST with `{"output": f(input)}`, and can be told to be slow, fail, hang or reply
 * with a body of your choosing. It records what it received (turn that off in benchmarks with
 * `record: false`, which keeps the answering path to parse + stringify).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUpstreamBehaviour {
  /** The output for an input. Default: the input itself (echo). */
  output?: (input: unknown) => unknown;
  /** Wait this long before answering, ms. */
  delayMs?: number;
  /** Answer with this status; the body is `rawBody` or a JSON error. */
  status?: number;
  /** Send this text as the reply body, as it is (for bad JSON or a reply without `output`). */
  rawBody?: string;
  /** Never answer: the request stays open until the client gives up or the server closes. */
  hang?: boolean;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface FakeUpstream {
  /** The invoke URL (`<origin>/invoke`), as a version's adapter `url`. */
  url: string;
  origin: string;
  /** Requests received. */
  readonly calls: number;
  /** TCP connections accepted: stays at 1 for sequential calls over a kept-alive connection. */
  readonly connections: number;
  readonly requests: readonly ReceivedRequest[];
  setBehaviour(behaviour: FakeUpstreamBehaviour): void;
  /** Zeroes the counters and forgets recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  behaviour?: FakeUpstreamBehaviour;
  /** Keep received requests in `requests`. Default true; benchmarks turn it off. */
  record?: boolean;
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  let behaviour: FakeUpstreamBehaviour = options.behaviour ?? {};
  const record = options.record ?? true;
  let calls = 0;
  let connections = 0;
  let requests: ReceivedRequest[] = [];

  const answer = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    calls += 1;
    let body: unknown = text;
    let parsed = true;
    try {
      body = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (record) requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const b = behaviour;
    if (b.hang) return;
    const send = (): void => {
      if (b.status !== undefined || b.rawBody !== undefined) {
        const status = b.status ?? 200;
        reply(res, status, b.rawBody ?? JSON.stringify({ detail: `forced status ${status}` }));
      } else if (!parsed || body === null || typeof body !== 'object' || !('input' in body)) {
        // What LangServe (FastAPI) answers a body it cannot validate.
        reply(res, 422, JSON.stringify({ detail: 'body must be {"input": ...}' }));
      } else {
        const input = body.input;
        reply(res, 200, '{"output":' + (JSON.stringify(b.output ? b.output(input) : input) ?? 'null') + '}');
      }
    };
    if (b.delayMs) setTimeout(send, b.delayMs);
    else send();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
  });
  // Longer than any client's keep-alive, so the client, not the server, ends idle connections
  // (a server closing first races with a request being sent on the same socket).
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/invoke`,
    origin,
    get calls() {
      return calls;
    },
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    setBehaviour(next) {
      behaviour = next;
    },
    reset() {
      calls = 0;
      connections = 0;
      requests = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung requests and idle kept-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
