/** A file of dataset cases named on the command line: a JSON array, or JSON Lines (one case per line). */
import { readFileSync } from 'node:fs';
import { CliError } from './context.js';

export function readCasesFile(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.trimStart().startsWith('[')) {
    try {
      return JSON.parse(text) as unknown[];
    } catch (err) {
      throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const cases: unknown[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      cases.push(JSON.parse(line));
    } catch (err) {
      throw new CliError(`${path} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
  });
  if (cases.length === 0) throw new CliError(`${path} has no cases`);
  return cases;
}
