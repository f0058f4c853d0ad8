/**
 * DATA_DIR holds runs (PGlite's files, the spool: inputs and outputs, possibly personal data), the
 * generated admin token and the flag backup: only the gateway's own user may read or write it.
 *
 * PGlite creates its files with mode 0666 whatever the process umask (its wasm filesystem sets the
 * mode itself), so a umask alone does not do it. What does: DATA_DIR itself is 0700, which stops
 * any other user at the door (no search permission, no path to anything inside), and at start the
 * group and other bits are cleared on everything below it (what an earlier version or another tool
 * left). Files PGlite creates later are 0666 again, but behind that door. server.ts also sets the
 * process umask to 077 so that everything else the gateway creates is owner-only from the start.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Creates DATA_DIR (0700) if needed and makes it owner-only. */
export function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Clears group and other permission bits on everything below `dir` (symbolic links are not
 * followed: their own mode is not used, and their target may lie outside). Returns how many
 * entries it changed.
 */
export function restrictTree(dir: string): number {
  let changed = 0;
  const walk = (path: string): void => {
    const names = ignoreGone(() => readdirSync(path));
    for (const name of Array.isArray(names) ? names : []) {
      const child = join(path, name);
      const st = lstatSync(child, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) continue;
      if ((st.mode & 0o077) !== 0 && ignoreGone(() => chmodSync(child, st.mode & 0o700)) !== undefined) changed++;
      if (st.isDirectory()) walk(child);
    }
  };
  walk(dir);
  return changed;
}

/** `fn()`, or undefined when what it works on was removed meanwhile (the database runs beside us). */
function ignoreGone<T>(fn: () => T): T | true | undefined {
  try {
    return fn() ?? true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
