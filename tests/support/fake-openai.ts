/**
 * A small OpenAI-compatible server on 127.0.0.1 for driving the real `openai` SDK in tests:
 * POST /v1/chat/completions (OpenAI) and
 * POST /openai/deployments/{deployment}/chat/completions?api-version=... (Azure OpenAI).
 * The reply content is a function of the received messages; status, delay and hang are settable.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatMessage {
  role: string;
  content: string;
}

export interface FakeOpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface FakeOpenAIBehaviour {
  /** The assistant's content. Default: the last message's content. `null` sends a refusal. */
  reply?: (messages: FakeChatMessage[], body: Record<string, unknown>) => string | null;
  usage?: FakeOpenAIUsage | null;
  finishReason?: string;
  /** Answer with this error status and an OpenAI error body. */
  status?: number;
  errorMessage?: string;
  delayMs?: number;
  hang?: boolean;
}

export interface FakeOpenAIRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The Azure deployment in the path, if the Azure path was used. */
  deployment?: string;
}

export interface FakeOpenAI {
  origin: string;
  /** For `new OpenAI({ baseURL })` / OPENAI_BASE_URL. */
  baseURL: string;
  /** For Azure: AZURE_OPENAI_ENDPOINT. */
  azureEndpoint: string;
  readonly calls: number;
  readonly requests: readonly FakeOpenAIRequest[];
  setBehaviour(behaviour: FakeOpenAIBehaviour): void;
  reset(): void;
  close(): Promise<void>;
}

const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;
const DEFAULT_USAGE: FakeOpenAIUsage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

export async function startFakeOpenAI(initial: FakeOpenAIBehaviour = {}): Promise<FakeOpenAI> {
  let behaviour = initial;
  let calls = 0;
  let requests: FakeOpenAIRequest[] = [];
  let sequence = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const azure = AZURE_PATH.exec(url.pathname);
      if (req.method !== 'POST' || (url.pathname !== '/v1/chat/completions' && azure === null)) {
        return sendError(res, 404, `No route ${req.method} ${url.pathname}`, 'not_found');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return sendError(res, 400, 'The body is not JSON.', 'invalid_json');
      }
      calls += 1;
      requests.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        ...(azure?.[1] === undefined ? {} : { deployment: decodeURIComponent(azure[1]) }),
      });
      const b = behaviour;
      if (b.hang) return;
      const send = (): void => {
        if (b.status !== undefined) return sendError(res, b.status, b.errorMessage ?? `forced status ${b.status}`, 'forced');
        const messages = (Array.isArray(body.messages) ? body.messages : []) as FakeChatMessage[];
        const content = b.reply ? b.reply(messages, body) : (messages.at(-1)?.content ?? '');
        sequence += 1;
        send200(res, {
          id: `chatcmpl-fake-${sequence}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: typeof body.model === 'string' ? body.model : 'fake',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content, refusal: content === null ? 'I cannot help with that.' : null },
              finish_reason: b.finishReason ?? 'stop',
              logprobs: null,
            },
          ],
          ...(b.usage === null ? {} : { usage: b.usage ?? DEFAULT_USAGE }),
        });
      };
      if (b.delayMs) setTimeout(send, b.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    baseURL: `${origin}/v1`,
    azureEndpoint: origin,
    get calls() {
      return calls;
    },
    get requests() {
      return requests;
    },
    setBehaviour(next) {
      behaviour = next;
    },
    reset() {
      calls = 0;
      requests = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send200(res: ServerResponse, payload: unknown): void {
  write(res, 200, JSON.stringify(payload));
}

// The error body shape the OpenAI API uses, which the SDK turns into APIError.error.
function sendError(res: ServerResponse, status: number, message: string, code: string): void {
  write(res, status, JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } }));
}

function write(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': 'req_fake' });
  res.end(text);
}
