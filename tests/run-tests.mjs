#!/usr/bin/env node
// `npm test`: runs every vitest suite, then prints one plain line `N passed, N failed` (from
// vitest's JSON report) so any CI log states how many tests ran. Extra arguments go to vitest.
// TEST_RUN_LABEL=node24 prints `node24: N passed, N failed` (a second run in the same CI log).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const outDir = join(process.cwd(), '.tmp');
mkdirSync(outDir, { recursive: true });
const report = join(outDir, `vitest-report-${process.pid}.json`);
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  // A file that fails to load has no failed tests of its own: count it as one failure.
  failed = json.numFailedTests || json.numFailedTestSuites || 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  rmSync(report, { force: true });
} catch {
  if (run.status !== 0) failed = Math.max(failed, 1);
}
const label = process.env.TEST_RUN_LABEL ? `${process.env.TEST_RUN_LABEL}: ` : '';
console.log(`${label}${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status ?? 1);
