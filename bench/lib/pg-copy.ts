/**
 * COPY ... FROM STDIN for node-postgres without pg-copy-streams (not a dependency): a Submittable
 * that sends the statement, answers the server's CopyInResponse with the data in CopyData messages
 * and CopyDone, and resolves on ReadyForQuery. Text format: tab-separated, \N for NULL.
 */
import type pg from 'pg';

/** One value in COPY text format. Objects (jsonb) are JSON; Dates ISO 8601. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number') return String(v);
  else if (typeof v === 'boolean') return v ? 't' : 'f';
  else if (v instanceof Date) return v.toISOString();
  else s = JSON.stringify(v);
  // Backslash first, then the characters that delimit fields and rows.
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

class CopyFrom {
  rowCount = 0;
  private error: Error | undefined;
  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly done: (err: Error | undefined, rows: number) => void,
  ) {}
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    const CHUNK = 1 << 20;
    for (let i = 0; i < this.data.length; i += CHUNK) connection.sendCopyFromChunk(this.data.subarray(i, i + CHUNK));
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    this.done(this.error, this.rowCount);
  }
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** COPY `table (columns)` FROM STDIN with the rows given; resolves to the number of rows copied. */
export function copyRows(client: pg.Client, table: string, columns: string[], rows: unknown[][]): Promise<number> {
  let text = '';
  for (const row of rows) text += row.map(copyValue).join('\t') + '\n';
  const statement = `COPY ${table} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN`;
  return new Promise((resolve, reject) => {
    void client.query(
      new CopyFrom(statement, Buffer.from(text, 'utf8'), (err, n) => (err ? reject(err) : resolve(n))) as unknown as pg.QueryConfig,
    );
  });
}
