/**
 * Validation of user settings: bad values are ignored, so a typo never breaks tracking.
 */
import type { TrackerConfig } from './types.js';

/** Default bound on every send, in milliseconds. */
export const DEFAULT_TIMEOUT = 5000;

/**
 * Applies the valid entries of `input` to `config`: `url` as a non-empty string (trailing slashes
 * dropped), `timeout` as a positive number of ms (below 1e9), `debug` as a truthy/falsy value.
 *
 * @example applyConfig(config, { url: 'https://m.example.com/', timeout: 2000 })
 */
export const applyConfig = (config: TrackerConfig, input: unknown): TrackerConfig => {
  const { url, timeout, debug } = (input || {}) as Record<string, unknown>;
  if (url && typeof url == 'string') config.url = url.replace(/\/+$/, '');
  if ((timeout as number) > 0 && (timeout as number) < 1e9) config.timeout = +(timeout as number);
  if (debug != null) config.debug = !!debug;
  return config;
};
