/**
 * startWorker's young generation limit (src/runtime/worker-boot.ts): under `npm start`'s
 * --max-semi-space-size=8 a worker's resourceLimits.maxYoungGenerationSizeMb would be ignored (the
 * recorder thread would get the gateway's 16 MB of new space); the limit must hold, and workers
 * started without one must still get the process's setting.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../../support/young-generation-child.ts', import.meta.url));

describe('startWorker', () => {
  it('holds a young generation limit under --max-semi-space-size, and restores the flag after', () => {
    const out = execFileSync(process.execPath, ['--max-semi-space-size=8', '--import', 'tsx/esm', child], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { limited, unlimited } = JSON.parse(out.trim().split('\n').pop()!) as { limited: number; unlimited: number };
    // 3 MB of young generation: 1 MB semi-spaces.
    expect(limited).toBeLessThanOrEqual(2048);
    expect(unlimited).toBeGreaterThanOrEqual(8192);
  });
});
