/**
 * The gateway loads the Unleash SDK's `Unleash` class, and with it the SDK's HTTP stack
 * (make-fetch-happen and its cache, proxy agents: 1.5 MB of its heap), only when it talks to an
 * Unleash server. The embedded flag store evaluates with the SDK's `UnleashClient` alone
 * (src/flags/unleash-engine.ts). Checked in a fresh process, where nothing else has loaded them.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const composition = fileURLToPath(new URL('../../../src/composition.ts', import.meta.url));
const embeddedStore = fileURLToPath(new URL('../../../src/flags/embedded-flag-store.ts', import.meta.url));
const unleashStore = fileURLToPath(new URL('../../../src/flags/unleash-flag-store.ts', import.meta.url));

/** The SDK's files a fresh process has loaded after importing `modules`. */
function sdkFilesLoadedBy(...modules: string[]): { unleashClass: boolean; httpStack: boolean; evaluationClient: boolean } {
  const script = `
    import { createRequire } from 'node:module';
    for (const m of ${JSON.stringify(modules)}) await import(m);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const any = (part) => loaded.some((f) => f.includes(part));
    console.log(JSON.stringify({
      unleashClass: any('unleash-client/lib/unleash.js'),
      httpStack: any('/make-fetch-happen/'),
      evaluationClient: any('unleash-client/lib/client.js'),
    }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as ReturnType<typeof sdkFilesLoadedBy>;
}

describe('the Unleash SDK in the gateway', () => {
  it('is not loaded whole by the composition root or the embedded flag store', () => {
    expect(sdkFilesLoadedBy(composition, embeddedStore)).toEqual({ unleashClass: false, httpStack: false, evaluationClient: true });
  });

  it('is loaded whole by the Unleash flag store (this check can tell)', () => {
    expect(sdkFilesLoadedBy(unleashStore)).toMatchObject({ unleashClass: true, httpStack: true });
  });
});
