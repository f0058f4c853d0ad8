/**
 * A bundled example upstream for trying the gateway by hand (README: Try it by hand): it answers
 * LangServe's `/invoke` shape, `POST {"input": ...}` → `{"output": ..., "metadata": {"run_id"}}`,
 * with a deterministic toy extraction of an invoice's fields from the input's text, so the
 * README's commands print the same outputs on every machine with nothing else installed.
 *
 * Two versions, so that a rollout has something to compare:
 * - v1 (`/invoke`, `/v1/invoke`) reads the total after the word "total";
 * - v2 (`/v2/invoke`) takes the first number in the text as the total: a plausible regression
 *   (on "Invoice 1017 from ACME ..., total 42.50 EUR" it answers 1017), which reviewers override.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface InvoiceFields {
  vendor: string | null;
  total: number | null;
  currency: string | null;
  date: string | null;
}

const CURRENCY_SYMBOLS: Record<string, string> = { '€': 'EUR', $: 'USD', '£': 'GBP' };

/** "1,234.50" → 1234.5; "42,50" → 42.5; "1017" → 1017. */
function parseAmount(s: string): number | null {
  const t = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replace(/,/g, '') : s.replace(',', '.');
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function textOf(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input && typeof input === 'object' && typeof (input as { text?: unknown }).text === 'string') return (input as { text: string }).text;
  return JSON.stringify(input ?? '');
}

export function extractInvoice(input: unknown, version: 'v1' | 'v2' = 'v1'): InvoiceFields {
  const text = textOf(input);
  const vendor = /\bfrom\s+([^,.;\n]+)/i.exec(text)?.[1]?.trim() ?? null;
  const totalText =
    version === 'v1'
      ? /\btotal\b\D*?(\d[\d.,]*\d|\d)/i.exec(text)?.[1]
      : /(\d[\d.,]*\d|\d)/.exec(text.replace(/\d{4}-\d{2}-\d{2}/g, ''))?.[1];
  const code = /\b(EUR|USD|GBP|CHF|JPY)\b/.exec(text)?.[1];
  const symbol = /[€$£]/.exec(text)?.[0];
  return {
    vendor,
    total: totalText ? parseAmount(totalText) : null,
    currency: code ?? (symbol ? CURRENCY_SYMBOLS[symbol]! : null),
    date: /\b(\d{4}-\d{2}-\d{2})\b/.exec(text)?.[1] ?? null,
  };
}

const ROUTES: Record<string, 'v1' | 'v2'> = { '/invoke': 'v1', '/v1/invoke': 'v1', '/v2/invoke': 'v2' };
const MAX_BODY = 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/') {
    send(res, 200, {
      service: 'chain-canary example upstream',
      endpoints: { 'POST /invoke': 'v1', 'POST /v1/invoke': 'v1', 'POST /v2/invoke': 'v2' },
    });
    return;
  }
  const version = ROUTES[path];
  if (!version) return send(res, 404, { detail: 'Not Found' });
  if (req.method !== 'POST') return send(res, 405, { detail: 'Method Not Allowed' });
  const text = await readBody(req);
  if (text === undefined) return send(res, 413, { detail: 'Request body too large' });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // FastAPI's (and so LangServe's) status for a body it cannot read.
    return send(res, 422, { detail: 'The body is not JSON' });
  }
  if (!body || typeof body !== 'object' || !('input' in body)) return send(res, 422, { detail: 'The body needs an "input" field' });
  send(res, 200, { output: extractInvoice(body.input, version), metadata: { run_id: randomUUID(), feedback_tokens: [] } });
}

export interface RunningExampleUpstream {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startExampleUpstream(opts: { port: number; host: string }): Promise<RunningExampleUpstream> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { detail: 'Internal Server Error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
