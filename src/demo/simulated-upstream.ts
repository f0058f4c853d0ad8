/**
 * The demo's upstream: two LangServe-style chain versions of an invoice extractor on loopback.
 * v1 is the good one; v2 is "improved" but gets the total wrong more often, so humans override
 * it more. The reviewers' behaviour lives in demo.ts; this only answers calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimulatedUpstream {
  url(version: 'v1' | 'v2'): string;
  close(): Promise<void>;
}

const VENDORS = ['ACME GmbH', 'Globex Ltd', 'Initech Inc', 'Umbrella plc', 'Hooli LLC', 'Stark AG'];

export async function startSimulatedUpstream(): Promise<SimulatedUpstream> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const version = req.url?.startsWith('/v2') ? 'v2' : 'v1';
      const { input } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { input?: { doc?: number } };
      const doc = Number(input?.doc ?? 0);
      const answer = () => {
        // The candidate fails now and then (a flaky new prompt); the control never does here.
        if (version === 'v2' && Math.random() < 0.01) {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"model returned invalid JSON"}');
          return;
        }
        const output = {
          vendor: VENDORS[doc % VENDORS.length],
          total: Math.round((doc * 37.5) % 5000) / 1,
          currency: 'EUR',
          date: '2026-11-28',
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ output, metadata: { version } }));
      };
      setTimeout(answer, version === 'v2' ? 6 : 4);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (version) => `http://127.0.0.1:${port}/${version}/invoke`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
