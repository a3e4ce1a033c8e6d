/**
 * The `mt(…)` command dispatcher of the script tag (CONTRACTS A, PROTOCOL §2). No input throws:
 * unknown commands are ignored, with a `console.warn` when `debug` is on.
 */
import { applyConfig } from './config.js';
import type { TrackerCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

/**
 * @example const mt = createCommandRunner(core, config);
 * mt('send', 'pageview', { email: 'jane@example.com' }, { onload() {}, onerror() {} });
 * mt('send', 'event', 'Video', 'play', 'intro', 30);
 * mt('config', { url: 'https://m.example.com', timeout: 3000, debug: true });
 */
export const createCommandRunner =
  (core: TrackerCore, config: TrackerConfig) =>
  (...args: unknown[]): void => {
    try {
      const [command, a] = args;
      // 'send' commands are told apart from the others by their second word.
      const name = command == 'send' ? 'send ' + a : command;
      if (name == 'send pageview') core._pageview(...args.slice(2));
      else if (name == 'send event') core._event(...args.slice(2));
      else if (name == 'identify') core._identify(...args.slice(1));
      else if (name == 'config') applyConfig(config, a);
      else if (config.debug) console.warn('mt: ignored', args);
    } catch (error) {
      // Only reachable through hostile inputs (e.g. a throwing toString): still never into the page.
      if (config.debug) console.error(error);
    }
  };
