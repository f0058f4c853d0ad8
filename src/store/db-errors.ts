/** Classifying database errors (node-postgres and PGlite both carry SQLSTATE in `code`). */

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the record, not the database, is bad. */
export function isDataError(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}
