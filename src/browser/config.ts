/**
 * Validation of user settings: bad values are ignored, so a typo never breaks tracking.
 */
import { consentOptions } from './consent.js';
import type { TrackerConfig } from './types.js';

/** Default bound on every send, in milliseconds. */
export const DEFAULT_TIMEOUT = 5000;

/**
 * Applies the valid entries of `input` to `config`: `url` as an absolute `http://` or `https://`
 * URL, or a path on the page's own site (`/mt`, `//m.example.com`), with one trailing slash
 * dropped (`https://m.example.com/` → `https://m.example.com`); any other `url` (`javascript:`,
 * `data:`, `ftp:`, a relative `mt`, not a string) is ignored, with a `console.warn` when `debug`
 * is on. `timeout` as a positive number of ms below 2e9, `debug` as a truthy or falsy value.
 * `consent`, `honorGpc` and `honorDnt` as consent.ts reads them (not in dist/mtc.js).
 *
 * @example applyConfig(config, { url: 'https://m.example.com', timeout: 2000 })
 */
export const applyConfig = (config: TrackerConfig, input: unknown): TrackerConfig => {
  const { url, timeout, debug } = (input || {}) as Record<string, unknown>;
  if (debug != null) config._debug = !!debug;
  if (consentOptions) consentOptions(config, (input || {}) as Record<string, unknown>);
  // Above 2^31 - 1 ms, setTimeout fires at once: such a timeout is as bad as none.
  if ((timeout as number) > 0 && (timeout as number) < 2e9) config._timeout = +(timeout as number);
  // A prefix test rather than `new URL`: a string starting so can only resolve to http(s) (the
  // URL parser's tab, newline and leading-space stripping cannot turn it into another scheme).
  if (typeof url == 'string' && /^(https?:\/\/|\/)/i.test(url)) config._url = url.replace(/\/$/, '');
  else if (url != null && config._debug) console.warn('mt: ignored', url);
  return config;
};
