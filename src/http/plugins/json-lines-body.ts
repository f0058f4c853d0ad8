/**
 * A JSON Lines body parser (application/x-ndjson, application/jsonl), registered by the routes
 * that take one (not global: it is added inside their plugin's encapsulation context). Every
 * line is one JSON value and goes through the same checks as a JSON body (json-body.ts): nesting
 * depth, strings PostgreSQL cannot store, and Fastify's own parser (`__proto__` refused). The body
 * becomes the array of the lines' values; a blank line is an error except at the end.
 * Errors name the line.
 */
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../domain/model/errors.js';
import { JsonTooDeepError, MAX_JSON_DEPTH, nestsDeeperThan } from '../../domain/overrides/json-value.js';
import { hasUnstorableEscapes } from '../../store/storable-json.js';
import { encodedBodyError } from './content-encoding.js';

export const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/json-lines'];

export function registerJsonLinesParser(app: FastifyInstance): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(JSON_LINES_TYPES, { parseAs: 'string' }, (request, body, done) => {
    const encoded = encodedBodyError(request);
    if (encoded) return done(encoded, undefined);
    const lines = (body as string).split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    const values: unknown[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const where = `line ${i + 1}`;
      if (line.trim() === '')
        return done(new BadRequestError(`The body is not JSON Lines: ${where} is blank.`, { line: i + 1 }, 'invalid_jsonl'), undefined);
      if (nestsDeeperThan(line, MAX_JSON_DEPTH)) return done(new JsonTooDeepError(), undefined);
      if (hasUnstorableEscapes(line)) {
        return done(
          new BadRequestError(
            `${where} has a string with \\u0000 or an unpaired surrogate, which cannot be stored.`,
            { line: i + 1 },
            'unstorable_text',
          ),
          undefined,
        );
      }
      // Fastify's parser answers synchronously: secure-json-parse over the text.
      let failed: Error | undefined;
      void secureParse(request, line, (err, value) => {
        if (err) failed = err;
        else values.push(value);
      });
      if (failed) {
        let reason = 'has a "__proto__" or "constructor.prototype" key, which is refused';
        try {
          JSON.parse(line);
        } catch (syntax) {
          reason = `is not valid JSON: ${(syntax as Error).message}`;
        }
        return done(new BadRequestError(`The body is not JSON Lines: ${where} ${reason}.`, { line: i + 1 }, 'invalid_jsonl'), undefined);
      }
    }
    done(null, values);
  });
}
