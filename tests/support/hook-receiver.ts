/**
 * A webhook receiver on 127.0.0.1: every POST's body (parsed) and its signature header, kept in
 * arrival order; answers 204.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  body: any;
  /** The `x-chain-canary-signature` header ('' when absent). */
  signature: string;
  raw: string;
}

export interface HookReceiver {
  url: string;
  hooks: ReceivedHook[];
  close(): Promise<void>;
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const hooks: ReceivedHook[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      hooks.push({ raw, body: JSON.parse(raw), signature: String(req.headers['x-chain-canary-signature'] ?? '') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    hooks,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
