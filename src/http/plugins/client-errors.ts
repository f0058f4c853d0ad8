/**
 * What Node's HTTP parser refuses before Fastify sees a request (the server's `clientError`
 * event): a request that did not arrive in time, headers over Node's size limit, bytes that are
 * not HTTP. Fastify's default answer is its own JSON shape (`{"error":"Bad Request", "statusCode"}`)
 * and it writes even after a response has begun; this one answers in the contract's error JSON,
 * only when nothing of a response was written yet, and always closes the connection (the parser's
 * state is lost).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './error-handler.js';

export interface ClientTimeouts {
  headersMs: number;
  requestMs: number;
}

interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/** The answer to a parser error, by Node's error code (errors of `http.Server`'s 'clientError'). */
export function clientErrorAnswer(code: string | undefined, timeouts: ClientTimeouts | undefined): ClientErrorAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'request_timeout',
        message: timeouts
          ? `The request did not arrive in time: headers are expected within ${timeouts.headersMs} ms and the whole request, body included, within ${timeouts.requestMs} ms (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS). The connection is closed.`
          : 'The request did not arrive in time. The connection is closed.',
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'The request line and headers are larger than the 16 KiB accepted.' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'payload_too_large', message: 'Chunk extensions are larger than accepted.' };
    default:
      return {
        status: 400,
        code: 'bad_http',
        message: `The request is not valid HTTP/1.1${code ? ` (${code})` : ''}. The connection is closed.`,
      };
  }
}

export function clientErrorHandler(timeouts: ClientTimeouts | undefined) {
  return function handle(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const answer = clientErrorAnswer(err.code, timeouts);
    this.log.debug({ code: err.code }, 'client error');
    // A response already begun on this socket (a reply sent while the body was still arriving)
    // must not be followed by a second status line: only close then.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(errorBody(answer.code, answer.message));
      socket.write(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
