/**
 * dist/mtc.js: loaded by Mautic's unchanged snippet (docs/protocol.md §1). Runs the queued `mt(…)` calls
 * in order, then replaces the stub so later calls run at once. A second copy does nothing.
 */
import { createCommandRunner } from './commands.js';
import { applyConfig, DEFAULT_TIMEOUT } from './config.js';
import { installMauticJS } from './mautic-js.js';
import { sharedCore } from './page-state.js';
import type { TrackerConfig } from './types.js';

/** Marks our runner, so a second copy of the script sees it is installed. */
const INSTALLED = 'mtc';

/**
 * The directory of the script's own URL: `https://m.example.com/t/mtc.js?v=1` → `https://m.example.com/t`
 * (a `/` inside the script URL's query would be taken for a path separator).
 */
const scriptBase = (): string => {
  // currentScript is null when not run as a classic script (e.g. re-evaluated by a tag manager).
  const script = (document.currentScript || document.querySelector('[src*="mtc.js"]')) as HTMLScriptElement | null;
  return (script?.src || '').replace(/\/[^/]*$/, '');
};

try {
  const host = window as unknown as Record<string, unknown>;
  const name = (host.MauticTrackingObject || 'mt') as string;
  const stub = host[name] as { q?: unknown[]; [INSTALLED]?: 1 } | undefined;
  if (!stub?.[INSTALLED]) {
    // The script's folder goes through the same URL rules as `mt('config', { url })`: the folder
    // of a `data:` or `blob:` script (or of none found) is ignored, leaving the base empty.
    const config = applyConfig({ _url: '', _timeout: DEFAULT_TIMEOUT } as TrackerConfig, { url: scriptBase() });
    // One state with every npm tracker of the page for the same URL: one first send, one counter.
    const run = createCommandRunner(sharedCore(config, config._url), config) as ((...args: unknown[]) => void) & { [INSTALLED]?: 1 };
    run[INSTALLED] = 1;
    installMauticJS(config);
    const queued = stub?.q;
    host[name] = run;
    // Entries are the snippet's `arguments` objects; one that `apply` refuses (a number, null, an
    // absurd length) is skipped, so it cannot stop the entries after it.
    queued?.forEach?.((entry) => {
      try {
        run.apply(0, entry as unknown[]);
      } catch {
        // Skipped: see above.
      }
    });
  }
} catch {
  // Nothing may reach the host page.
}
