/**
 * A real headless browser for the rendering tests: Debian's `chromium` (installed by `.ci/run`
 * with apt-get when missing), driven by playwright-core. Never a browser download: playwright-core
 * ships no browser, and `executablePath` names the system one.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian puts chromium. */
export const CHROMIUM_PATH = process.env.M365_AUDIT_CHROMIUM ?? '/usr/bin/chromium';

/** Starts headless chromium with the flags that keep it off the network. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium, as .ci/run does) or set M365_AUDIT_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}
