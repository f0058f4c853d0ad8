/**
 * How `npm start` runs the gateway (package.json: `NAME=value … node <flags> dist/cli.js serve`):
 * its environment assignments and node flags, so that the bench's gateway children and the idle
 * memory measurement run it exactly so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './children.js';

const words = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
const node = words.indexOf('node');

/** The variables `npm start` sets before `node` (e.g. MALLOC_ARENA_MAX). */
export const START_ENV: Record<string, string> = Object.fromEntries(
  words.slice(0, Math.max(node, 0)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
);

/** The node flags `npm start` passes. */
export const START_FLAGS: string[] = words.filter((w) => w.startsWith('--'));
