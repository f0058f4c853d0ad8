/**
 * Bodies are read as sent: a compressed body (`Content-Encoding: gzip`, …) would reach the JSON
 * parser as binary and fail as `invalid_json`, echoing bytes back. It is a 415 naming the header
 * instead, before any parsing (the body parsers call this first).
 */
import type { FastifyRequest } from 'fastify';
import { UnsupportedMediaTypeError } from '../../domain/model/errors.js';

export function encodedBodyError(request: FastifyRequest): UnsupportedMediaTypeError | undefined {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity' || encoding.trim() === '') return undefined;
  return new UnsupportedMediaTypeError(`Content-Encoding '${encoding.slice(0, 40)}' is not supported: send the body uncompressed.`, {
    field: 'headers.content-encoding',
  });
}
