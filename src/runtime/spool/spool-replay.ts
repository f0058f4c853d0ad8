/**
 * Start-up replay: the segments a previous process left are written to the database, in order and
 * in chunks, before the gateway serves. Writes are idempotent by run id (ON CONFLICT DO NOTHING)
 * and feedback is an upsert replayed in the order it was received (last wins), so replaying
 * records that already reached the database changes nothing.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { RecordRefusedError } from '../../domain/model/errors.js';
import type { RecordBatch, RunRepository } from '../../domain/ports/run-repository.js';
import { decodeLine, type SpoolRecord } from './spool-record.js';

export type ReplayStore = Pick<RunRepository, 'writeBatch'>;

export interface ReplayResult {
  runs: number;
  feedback: number;
  /** Lines that were not records (a torn tail after a crash). */
  unreadable: number;
  /** Records the database refused as data (moved to the rejected file, logged). */
  rejected: number;
  /** The highest sequence number seen in any segment. */
  maxSeq: number;
}

/** Every record of a segment file, in file order; lines that are not records are counted. */
export function readSegment(path: string, onUnreadable: () => void): SpoolRecord[] {
  const buf = readFileSync(path);
  const out: SpoolRecord[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    // A last line without its newline was being written when the process died: it was never
    // acknowledged (the write returns before the reply), but it may be whole; try it.
    if (end < 0) end = buf.length;
    if (end > start) {
      const record = decodeLine(buf.toString('utf8', start, end));
      if (record) out.push(record);
      else onUnreadable();
    }
    start = end + 1;
  }
  return out;
}

function batchOf(records: SpoolRecord[]): RecordBatch {
  const batch: RecordBatch = { runs: [], runJson: [], feedback: [] };
  for (const r of records) {
    if (r.kind === 'feedback') {
      batch.feedback.push(r.value);
      continue;
    }
    batch.runs.push(r.value);
    batch.runJson.push(JSON.stringify(r.value));
  }
  return batch;
}

export async function replaySegments(
  paths: readonly string[],
  opts: { afterSeq: number; store: ReplayStore; log: Logger; chunkSize?: number; rejectedFile: string },
): Promise<ReplayResult> {
  const chunkSize = opts.chunkSize ?? 1000;
  const result: ReplayResult = { runs: 0, feedback: 0, unreadable: 0, rejected: 0, maxSeq: 0 };
  const count = (records: SpoolRecord[]): void => {
    for (const r of records) {
      if (r.kind === 'run') result.runs++;
      else result.feedback++;
    }
  };
  const write = async (chunk: SpoolRecord[]): Promise<void> => {
    try {
      await opts.store.writeBatch(batchOf(chunk));
      count(chunk);
    } catch (err) {
      if (!(err instanceof RecordRefusedError)) throw err;
      // One bad record must not block every later one: write them one by one and set aside
      // what the database refuses as data. A database that is away still stops the start.
      for (const record of chunk) {
        try {
          await opts.store.writeBatch(batchOf([record]));
          count([record]);
        } catch (one) {
          if (!(one instanceof RecordRefusedError)) throw one;
          result.rejected++;
          appendFileSync(opts.rejectedFile, JSON.stringify({ seq: record.seq, kind: record.kind, value: record.value }) + '\n', {
            mode: 0o600,
          });
          // The SQLSTATE only: a query error carries the record's values, which may hold PII.
          opts.log.error(
            { seq: record.seq, kind: record.kind, code: one.sqlState },
            'spool record refused by the database; kept in the rejected file',
          );
        }
      }
    }
  };

  let chunk: SpoolRecord[] = [];
  for (const path of paths) {
    for (const record of readSegment(path, () => result.unreadable++)) {
      if (record.seq > result.maxSeq) result.maxSeq = record.seq;
      if (record.seq <= opts.afterSeq) continue;
      chunk.push(record);
      if (chunk.length >= chunkSize) {
        await write(chunk);
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) await write(chunk);
  return result;
}
