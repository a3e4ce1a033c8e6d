/**
 * The `mt(…)` command dispatcher of the script tag (docs/protocol.md §2). No input throws:
 * unknown commands are ignored, with a `console.warn` when `debug` is on.
 */
import { applyConfig } from './config.js';
import { createConsent } from './consent.js';
import type { TrackerCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

/**
 * @example const mt = createCommandRunner(core, config);
 * mt('send', 'pageview', { email: 'jane@example.com' }, { onload() {}, onerror() {} });
 * mt('send', 'event', 'Video', 'play', 'intro', 30);
 * mt('config', { url: 'https://m.example.com', timeout: 3000, debug: true, consent: 'required' });
 * mt('consent', 'grant'); // or 'deny' (not in dist/mtc.js: consent.ts)
 */
export const createCommandRunner =
  (core: TrackerCore, config: TrackerConfig) =>
  (...args: unknown[]): void => {
    try {
      const [command, a, ...rest] = args;
      if (command == 'send' && a == 'pageview') core.pageview(...rest);
      else if (command == 'send' && a == 'event') core.event(...rest);
      else if (command == 'identify') core.identify(a, ...rest);
      else if (command == 'config') applyConfig(config, a);
      // Only where consent is built in (createConsent is undefined in dist/mtc.js, and this folds away).
      else if (createConsent && command == 'consent') core.consent?.(a);
      else if (config._debug) console.warn('mt: ignored', args);
    } catch {
      // Only reachable through hostile inputs (e.g. a throwing getter): still never into the page.
    }
  };
