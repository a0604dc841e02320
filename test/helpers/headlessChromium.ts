// Chromium for the page tests: the Debian package's binary (or CHROMIUM_PATH), headless, quiet (no
// first-run, sync, update or background requests: only loopback traffic), in a fresh profile per run.
import { chromium, type BrowserContext } from 'playwright-core';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const quietHeadless = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium with its profile in `profileDir` (playwright passes it as --user-data-dir), plus `args`. */
export function launchChromium(profileDir: string, args: readonly string[] = []): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath, headless: true, args: [...quietHeadless, ...args] });
}
