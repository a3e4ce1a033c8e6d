/**
 * Validation of user settings: bad values are ignored, so a typo never breaks tracking.
 */
import type { TrackerConfig } from './types.js';

/** Default bound on every send, in milliseconds. */
export const DEFAULT_TIMEOUT = 5000;

/**
 * Applies the valid entries of `input` to `config`: `url` as a non-empty string, used as given
 * (`https://m.example.com`, no trailing slash), `timeout` as a positive number of ms below 2e9,
 * `debug` as a truthy or falsy value.
 *
 * @example applyConfig(config, { url: 'https://m.example.com', timeout: 2000 })
 */
export const applyConfig = (config: TrackerConfig, input: unknown): TrackerConfig => {
  const { url, timeout, debug } = (input || {}) as Record<string, unknown>;
  if (url && typeof url == 'string') config._url = url;
  // Above 2^31 - 1 ms, setTimeout fires at once: such a timeout is as bad as none.
  if ((timeout as number) > 0 && (timeout as number) < 2e9) config._timeout = +(timeout as number);
  if (debug != null) config._debug = !!debug;
  return config;
};
