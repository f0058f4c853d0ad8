/**
 * The application/json body parser: Fastify's own (secure-json-parse, with `__proto__` and
 * `constructor.prototype` refused), behind a nesting check.
 *
 * Why the check: JSON.parse takes a body of 100,000 nested arrays in its stride, but
 * JSON.stringify (the upstream call, the spool, the jsonb column) overflows the stack a few
 * thousand levels down, and a run that cannot be serialised cannot be kept. So a body nested
 * deeper than MAX_JSON_DEPTH is a 400 `json_too_deep` before anything reads it. The scan is one
 * pass over the text, skipped for bodies too short to nest that deep (most of them).
 * Strings PostgreSQL cannot store (U+0000, unpaired surrogates: storable-json.ts) are a 400 too.
 * Parse failures get messages that name the problem (where the syntax breaks, or the forbidden key).
 * An empty body is no body: the route's schema says whether it needs one; the body `null` is a 400.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { BadRequestError } from '../../domain/model/errors.js';
import { JsonTooDeepError, MAX_JSON_DEPTH, nestsDeeperThan } from '../../domain/overrides/json-value.js';
import { hasUnstorableEscapes } from '../../store/storable-json.js';
import { encodedBodyError } from './content-encoding.js';

const NULL_BODY = 'expected an object, received null';

export const jsonBodyPlugin = fp(
  async (app: FastifyInstance) => {
    const secureParse = app.getDefaultJsonParser('error', 'error');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const encoded = encodedBodyError(request);
      if (encoded) return done(encoded, undefined);
      const text = body as string;
      // No body at all: clients (curl helpers such as the README's `api`, SDKs) send the JSON
      // content type on every call, also on a POST that takes no body (cancel, resume). A route
      // that needs a body then answers 400 `validation_failed` naming it.
      if (text.length === 0) return done(null, undefined);
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return done(new JsonTooDeepError(), undefined);
      if (hasUnstorableEscapes(text)) {
        return done(
          new BadRequestError(
            'The body has a string with \\u0000 or an unpaired surrogate (\\uD800-\\uDFFF), which cannot be stored.',
            { field: 'body' },
            'unstorable_text',
          ),
          undefined,
        );
      }
      void secureParse(request, text, (err, value) => {
        // A body of JSON null would pass a route whose body is optional as "no body" (Fastify
        // validates a missing body as null), so it is refused here, as the schema would refuse it.
        if (!err && value === null)
          return done(
            new BadRequestError(`body: ${NULL_BODY}`, { issues: [{ field: 'body', message: NULL_BODY }] }, 'validation_failed'),
            undefined,
          );
        if (!err) return done(err, value);
        // The failure path only: say what is wrong instead of "not valid JSON".
        try {
          JSON.parse(text);
        } catch (syntax) {
          return done(
            new BadRequestError(`The body is not valid JSON: ${(syntax as Error).message}`, undefined, 'invalid_json'),
            undefined,
          );
        }
        done(
          new BadRequestError(
            'The body has a "__proto__" or "constructor.prototype" key, which is refused.',
            { field: 'body' },
            'forbidden_key',
          ),
          undefined,
        );
      });
    });
  },
  { name: 'json-body' },
);
