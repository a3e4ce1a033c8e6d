/**
 * Launches Debian's Chromium (never downloads one) with the flags of test/support/chromium-flags.mjs,
 * plus host rules that map the bench host names to 127.0.0.1 and make every other name fail to
 * resolve: no request of any tracker can leave the machine, and blocking at the resolver adds no
 * interception cost to the requests being timed (page.route would route every request through
 * the driver).
 */
import { chromium } from 'playwright';
import { CHROMIUM_FLAGS, hostRulesFlag, systemChromium } from '../../test/support/chromium-flags.mjs';

export const BENCH_HOSTS = ['site.test', 'mautic.test'];

export function findChromium() {
  const found = systemChromium();
  if (found) return found;
  throw new Error("No Chromium found. Set CHROMIUM_PATH or install Debian's chromium (apt-get install -y chromium).");
}

export function launchBenchChromium() {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [...CHROMIUM_FLAGS, hostRulesFlag(BENCH_HOSTS, true)],
  });
}
