import type { ServerResponse } from 'node:http';
/**
 * Bench child: the bare Node.js pass-through proxy, the floor for any Node gateway on these cores.
 * It does what a gateway cannot avoid and nothing else: read and parse the call, forward
 * `{"input"}` over an undici keep-alive Pool, parse the reply, answer `{"output"}`. No auth,
 * flags, validation or recording.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { serveChild } from './lib/children.js';

const target = new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:1/invoke');
const path = target.pathname;
const pool = new Pool(target.origin, { connections: 256 });
const HEADERS = ['content-type', 'application/json', 'accept', 'application/json'];
let served = 0;

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let call: { input?: unknown };
    try {
      call = JSON.parse(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    } catch {
      send(res, 400, '{"error":"bad json"}');
      return;
    }
    const body = '{"input":' + (JSON.stringify(call.input) ?? 'null') + '}';
    pool
      .request({ path, method: 'POST', headers: HEADERS, body })
      .then(async (r) => {
        const reply = JSON.parse(await r.body.text()) as { output?: unknown };
        served++;
        send(res, r.statusCode === 200 ? 200 : 502, '{"output":' + (JSON.stringify(reply.output) ?? 'null') + '}');
      })
      .catch(() => send(res, 502, '{"error":"upstream failed"}'));
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
const port = (server.address() as AddressInfo).port;

serveChild({ url: `http://127.0.0.1:${port}` }, async () => {
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
  await pool.close();
  return { served };
});
