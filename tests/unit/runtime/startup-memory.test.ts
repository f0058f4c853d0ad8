import { describe, expect, it } from 'vitest';
import { releaseStartupMemory } from '../../../src/runtime/startup-memory.js';

/** Node 22 and later: V8 pools the pages a collection frees until one that reduces memory. */
const V8_POOLS_FREED_PAGES = Number(process.versions.v8.split('.')[0]) >= 12;

/** About 150 MB of objects, dropped at once, as start-up leaves behind (modules, migrations, documents). */
function makeGarbage(): void {
  const objects: { id: number; name: string; tags: number[] }[] = [];
  for (let i = 0; i < 1_000_000; i++) objects.push({ id: i, name: `object ${i}`, tags: [i, i + 1, i + 2] });
  expect(objects.length).toBe(1_000_000);
}

describe('releaseStartupMemory', () => {
  it('collects without --expose-gc and leaves no gc exposed', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const released = releaseStartupMemory();
    expect(released.ms).toBeGreaterThanOrEqual(0);
    expect(released.rssAfterMB).toBeGreaterThan(0);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it.runIf(V8_POOLS_FREED_PAGES)('returns the pages garbage took to the system (Node 22 and later)', () => {
    makeGarbage();
    const released = releaseStartupMemory();
    expect(released.rssBeforeMB - released.rssAfterMB).toBeGreaterThan(50);
  });
});
