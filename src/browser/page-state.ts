/**
 * One tracker state per page and Mautic base URL, however many times a tracker is made: React's
 * StrictMode runs effects twice, HMR re-runs modules, two components or two bundles each make
 * one, and the npm module may sit beside the script tag. Each would otherwise have its own
 * first-send gate, so a new visitor's first two hits would race and become two contacts.
 *
 * The cores live in one non-enumerable, symbol-keyed slot of `window` (invisible to
 * `Object.keys(window)` and to `for…in`), shared by every copy of this code on the page.
 */
import { createCore, type TrackerCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

const SLOT = Symbol.for('mautic-tracker.cores');

/**
 * The page's core for `config._url` (made with `config` the first time; later configs for the
 * same URL share it, so its first config's timeout and debug setting apply).
 *
 * @example const core = pageCore({ _url: 'https://www.example.com/mt', _timeout: 5000, _debug: false });
 */
export const pageCore = (config: TrackerConfig): TrackerCore => {
  const host = window as unknown as { [SLOT]?: Map<string, TrackerCore> };
  if (!host[SLOT]) Object.defineProperty(host, SLOT, { value: new Map(), configurable: true });
  const cores = host[SLOT]!;
  // `/mt`, `https://site.example/mt` and `…/mt/` are the same Mautic for the same page.
  let key = config._url;
  try {
    key = new URL(config._url, location.href).href.replace(/\/+$/, '');
  } catch {
    // Not a URL: its own key, as given.
  }
  let core = cores.get(key);
  if (!core) cores.set(key, (core = createCore(config)));
  return core;
};
