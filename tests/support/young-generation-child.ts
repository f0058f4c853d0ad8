/**
 * Child process of tests/unit/runtime/worker-boot.test.ts, run with `npm start`'s
 * --max-semi-space-size=8: starts workers through startWorker with and without a young
 * generation limit and prints the new space each one had after allocating (KB), one JSON line.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWorker } from '../../src/runtime/worker-boot.js';

// Allocates through several scavenges, so the new space has grown to what it may, then reports it.
const entry = join(tmpdir(), `cc-young-generation-${process.pid}.mjs`);
writeFileSync(
  entry,
  `import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 2000) keep = []; }
parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size >> 10);
`,
);

async function newSpaceKb(limits?: { maxYoungGenerationSizeMb: number }): Promise<number> {
  const worker = startWorker({ url: pathToFileURL(entry), compiled: true }, limits ? { resourceLimits: limits } : {});
  const kb = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  return kb;
}

let limited: number;
let unlimited: number;
try {
  limited = await newSpaceKb({ maxYoungGenerationSizeMb: 3 });
  // Started after: the process's flag is back for workers without a limit.
  unlimited = await newSpaceKb();
} finally {
  rmSync(entry, { force: true });
}
process.stdout.write(`${JSON.stringify({ limited, unlimited })}\n`);
