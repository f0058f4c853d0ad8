#!/usr/bin/env node
// `npm test`: runs every vitest suite, then prints one plain line `N passed, N failed` (from
// vitest's JSON report) so any CI log states how many tests ran. Extra arguments go to vitest.
// TEST_RUN_LABEL=node24 prints `node24: N passed, N failed` (a second run in the same CI log).
// The failed tests are named above that line; TEST_SUMMARY_FILE=path also appends both to a file,
// so .ci/run can repeat every run's outcome at the end of its log, where a truncated log still shows it.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const outDir = join(process.cwd(), '.tmp');
mkdirSync(outDir, { recursive: true });
const report = join(outDir, `vitest-report-${process.pid}.json`);
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });

const firstLine = (message) => (message ?? 'no message').split('\n')[0].slice(0, 300);

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  for (const file of json.testResults ?? []) {
    const name = relative(process.cwd(), file.name);
    const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`failed: ${name} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    // A file that fails to load (or whose hooks fail) has no failed tests of its own: one failure.
    if (file.status === 'failed' && failedTests.length === 0) {
      failed += 1;
      failures.push(`failed: ${name}: ${firstLine(file.message)}`);
    }
  }
  rmSync(report, { force: true });
} catch {
  if (run.status !== 0) failed = Math.max(failed, 1);
}
const label = process.env.TEST_RUN_LABEL ? `${process.env.TEST_RUN_LABEL}: ` : '';
const lines = [...failures, `${label}${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`];
console.log(lines.join('\n'));
if (process.env.TEST_SUMMARY_FILE) appendFileSync(process.env.TEST_SUMMARY_FILE, `${lines.join('\n')}\n`);
process.exit(run.status ?? 1);
