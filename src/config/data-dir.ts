/**
 * DATA_DIR must be a folder this process can write (embedded database, flag backup, run spool,
 * generated admin token). Checked before anything else starts, so a volume owned by another user
 * (a Docker volume created by root, say) stops the start with one line rather than an EACCES stack
 * from whichever part touched it first.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';

export class DataDirError extends Error {
  override name = 'DataDirError';
}

export function ensureWritableDataDir(dir: string): void {
  try {
    // Owner-only, as the gateway keeps it (src/runtime/data-dir.ts).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const who = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    throw new DataDirError(
      `DATA_DIR ${dir} is not writable by this process${who}: ${code}. Give that user the folder (chown), or point DATA_DIR at one it owns.`,
    );
  }
}
