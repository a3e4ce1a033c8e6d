// The one list of how every Chromium of this repository is launched (the tests' and the bench's):
// Debian's build, never a download, no sandbox (containers), nothing that talks to Google.
// Plain JavaScript so that bench/ (its own package, run by plain Node) imports it too.
import { existsSync } from 'node:fs';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** `CHROMIUM_PATH`, then Debian's paths; undefined when none exists. */
export function systemChromium() {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Resolver rules mapping `hosts` to 127.0.0.1 (and, with `blockOthers`, every other name to nothing). */
export function hostRulesFlag(hosts, blockOthers = false) {
  const rules = hosts.map((h) => `MAP ${h} 127.0.0.1`);
  if (blockOthers) rules.push('MAP * ~NOTFOUND');
  return `--host-resolver-rules=${rules.join(', ')}`;
}
