/** Reading result rows of either driver. */

/** node-postgres returns a QueryResult, PGlite a Results object: both have `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? [];
}
