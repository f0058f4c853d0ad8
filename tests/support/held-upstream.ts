/**
 * A LangServe-style upstream that holds every reply until the test releases it: a real HTTP
 * server on 127.0.0.1 for proving that an answer did not wait for a call (it arrived while that
 * call was still held), without measuring time. Replies are `{"output": f(input)}`, or an error
 * status when `status` is set.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldUpstream {
  url: string;
  /** Requests received so far. */
  readonly received: number;
  /** Requests received and not answered yet. */
  readonly held: number;
  /** Answers everything held, and from now on answers at once until `hold()`. */
  release(): void;
  /** Holds replies again from now on. */
  hold(): void;
  /** What later replies are: an output function, or an error status. */
  setBehaviour(b: { output?: (input: unknown) => unknown; status?: number }): void;
  close(): Promise<void>;
}

export async function startHeldUpstream(opts: { output?: (input: unknown) => unknown } = {}): Promise<HeldUpstream> {
  let behaviour: { output?: (input: unknown) => unknown; status?: number } = { output: opts.output };
  let holding = true;
  let received = 0;
  const queue: (() => void)[] = [];
  const reply = (res: ServerResponse, status: number, body: string) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received += 1;
      // The behaviour when the reply is sent: a held call can be released as a failure.
      const answer = () => {
        const b = behaviour;
        if (b.status !== undefined) return reply(res, b.status, JSON.stringify({ detail: `forced status ${b.status}` }));
        const input = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: unknown }).input;
        reply(res, 200, JSON.stringify({ output: b.output ? b.output(input) : input }));
      };
      if (holding) queue.push(answer);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/invoke`,
    get received() {
      return received;
    },
    get held() {
      return queue.length;
    },
    release() {
      holding = false;
      for (const answer of queue.splice(0)) answer();
    },
    hold() {
      holding = true;
    },
    setBehaviour(b) {
      behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
