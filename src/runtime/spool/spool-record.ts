/**
 * One spool line: `{"s":<seq>,"k":"r"|"f","v":<run or feedback>}` and a newline. The line is
 * built once, by string concatenation around one JSON.stringify of the record, so the hot path
 * serialises a run exactly once. Dates leave as ISO strings and are revived on the way back.
 */
import type { Feedback, Run } from '../../domain/model/run.js';

export type SpoolRecord = { seq: number; kind: 'run'; value: Run } | { seq: number; kind: 'feedback'; value: Feedback };

/** What comes before the record's JSON in its line (ASCII only, so its length is its byte count). */
export function linePrefix(seq: number, kind: 'r' | 'f'): string {
  return '{"s":' + seq + ',"k":"' + kind + '","v":';
}

/** What comes after the record's JSON: the line's end. */
export const LINE_END = '}\n';

export function encodeLine(seq: number, kind: 'r' | 'f', json: string): string {
  return linePrefix(seq, kind) + json + LINE_END;
}

/**
 * The record of one line, or undefined for a line that is not one (a torn tail after a crash,
 * zeros a power loss left in a block that was never synced).
 */
export function decodeLine(line: string): SpoolRecord | undefined {
  // A block that was allocated but never written reads as NUL bytes: skip to the record.
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(start === 0 ? line : line.slice(start));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { s, k, v } = parsed as { s?: unknown; k?: unknown; v?: unknown };
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1 || v === null || typeof v !== 'object') return undefined;
  if (k === 'r') {
    if (typeof (v as { id?: unknown }).id !== 'string') return undefined;
    return { seq: s, kind: 'run', value: reviveRun(v as Run) };
  }
  if (k === 'f') {
    const fb = v as Feedback & { at?: unknown };
    if (typeof fb.runId !== 'string' || typeof fb.at !== 'string') return undefined;
    fb.at = new Date(fb.at);
    return { seq: s, kind: 'feedback', value: fb };
  }
  return undefined;
}

/** A run from the JSON the writer made of it (storable-json.ts): a new object each time. */
export function parseRun(json: string): Run {
  return reviveRun(JSON.parse(json) as Run);
}

/** A run parsed back from its JSON: `createdAt` left as an ISO string becomes a Date again. */
export function reviveRun(parsed: Run): Run {
  const run = parsed as Omit<Run, 'createdAt'> & { createdAt: unknown };
  if (typeof run.createdAt === 'string') run.createdAt = new Date(run.createdAt);
  return run as Run;
}
