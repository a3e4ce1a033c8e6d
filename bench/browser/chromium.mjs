/**
 * Launches Debian's Chromium (never downloads one) with the same flags as test/support/chromium.ts,
 * plus host rules that map the bench host names to 127.0.0.1 and make every other name fail to
 * resolve: no request of any tracker can leave the machine, and blocking at the resolver adds no
 * interception cost to the requests being timed (page.route would route every request through
 * the driver).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';

export const BENCH_HOSTS = ['site.test', 'mautic.test'];

export function findChromium() {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error("No Chromium found. Set CHROMIUM_PATH or install Debian's chromium (apt-get install -y chromium).");
}

export function launchBenchChromium() {
  const rules = [...BENCH_HOSTS.map((h) => `MAP ${h} 127.0.0.1`), 'MAP * ~NOTFOUND'].join(', ');
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      `--host-resolver-rules=${rules}`,
    ],
  });
}
