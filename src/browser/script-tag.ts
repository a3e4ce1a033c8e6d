/**
 * dist/mtc.js: loaded by Mautic's unchanged snippet (PROTOCOL §1). Runs the queued `mt(…)` calls
 * in order, then replaces the stub so later calls run at once. A second copy does nothing.
 */
import { createCommandRunner } from './commands.js';
import { DEFAULT_TIMEOUT } from './config.js';
import { createCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

/** Marks our runner, so a second copy of the script sees it is installed. */
const INSTALLED = 'mtc';

/** The directory of the script's own URL: `https://m.example.com/t/mtc.js?v=1` → `https://m.example.com/t`. */
const scriptBase = (): string => {
  // currentScript is null when not run as a classic script (e.g. re-evaluated by a tag manager).
  const script = (document.currentScript || document.querySelector('script[src*="mtc.js"]')) as HTMLScriptElement | null;
  return ((script && script.src) || '').replace(/\/[^/?#]*([?#].*)?$/, '');
};

try {
  const host = window as unknown as Record<string, unknown>;
  const name = (host.MauticTrackingObject || 'mt') as string;
  const stub = host[name] as { q?: ArrayLike<unknown>; [INSTALLED]?: 1 } | undefined;
  if (!stub || !stub[INSTALLED]) {
    const config: TrackerConfig = { url: scriptBase(), timeout: DEFAULT_TIMEOUT, debug: false };
    const run = createCommandRunner(createCore(config), config) as ((...args: unknown[]) => void) & { [INSTALLED]?: 1 };
    run[INSTALLED] = 1;
    const queued = stub && stub.q;
    host[name] = run;
    for (let i = 0; queued && i < queued.length; i++) {
      try {
        run.apply(0, queued[i] as unknown[]);
      } catch {
        // Not an arguments object: ignored like any odd input.
      }
    }
  }
} catch {
  // Nothing may reach the host page.
}
