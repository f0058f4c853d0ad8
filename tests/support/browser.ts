/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core
 * (no browser download). Without Chromium the browser suites skip with a clear message, except
 * in CI (CI=true), where a missing browser is an error.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Chromium is: CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Why browser suites skip on this machine, or undefined when they run. In CI they always run,
 * so a missing Chromium fails loudly at launch instead of passing silently.
 */
export const browserSkipReason: string | undefined =
  existsSync(CHROMIUM_PATH) || inCi
    ? undefined
    : `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (install it with \`apt-get install chromium\`, or set CHROMIUM_PATH)`;

if (browserSkipReason) console.warn(`[tests] ${browserSkipReason}`);

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH} and CI=true: browser tests may not be skipped in CI (install Debian's chromium package, or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // playwright-core passes --headless itself; the rest keeps Chromium off the network and quiet.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
