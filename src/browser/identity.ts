/**
 * The visitor's ids as Mautic's script keeps them (docs/protocol.md §5): localStorage `mtc_id` and
 * `mautic_device_id`, mirrored in first-party cookies (`path=/`) on the website's domain, so
 * visitors survive a switch between Mautic's script and ours in either direction.
 *
 * Storage can throw (Safari private mode, sandboxed iframes, cookies disabled): every access is
 * guarded and a failure just means "not stored".
 */
import { TRACKER_ROUTES } from '../protocol/routes.js';
import { DEVICE_ID_PATTERN, STORAGE_KEYS } from '../protocol/wire.js';
import { mayStore } from './consent.js';
import { READS_PATHS } from './route-url.js';
import { getJson } from './transport.js';
import type { TrackerConfig } from './types.js';

/** A contact id is a positive integer (as a number or its decimal string). */
export const isContactId = (value: unknown): boolean => /^[1-9]\d{0,15}$/.test(value as string);

/** A device id is 1–64 characters of `[0-9a-z]`; in particular never the string `"null"`. */
export const isDeviceId = (value: unknown): value is string =>
  typeof value == 'string' && value != 'null' && DEVICE_ID_PATTERN.test(value);

/** Writes nothing without consent or with a privacy signal (consent.ts; dist/mtc.js has no such check). */
const save = (key: string, value: string): void => {
  try {
    if (mayStore && !mayStore()) return;
    // The cookie first: where setting it throws (sandboxed documents), localStorage throws too.
    document.cookie = key + '=' + value + ';path=/';
    localStorage.setItem(key, value);
  } catch {
    // Storage refused: this visitor is anonymous on every page load.
  }
};

/**
 * The stored device id; invalid values (such as the `"null"` Mautic's script may have stored,
 * §9.6) count as none. Read from localStorage only: the cookie copy is for Mautic's script and
 * server-side code, and where localStorage is blocked, script-written cookies are too.
 */
export const readDeviceId = (): string | undefined => {
  try {
    const value = localStorage.getItem(STORAGE_KEYS.deviceId);
    if (isDeviceId(value)) return value;
  } catch {
    // Storage blocked: no stored id.
  }
};

/**
 * Stores the ids of a `/mtc/event` or `/mtc` response; each id only when valid, so `null`
 * (bots, ignored IPs, refusals) never overwrites a good id.
 */
export const storeIds = (response: unknown): void => {
  const { id, device_id: deviceId } = Object(response) as Record<string, unknown>;
  if (isContactId(id)) save(STORAGE_KEYS.contactId, id as string);
  if (isDeviceId(deviceId)) save(STORAGE_KEYS.deviceId, deviceId);
};

/**
 * Makes sure the visitor's ids are known: when no device id is stored, asks `GET {base}/mtc` and
 * stores its answer. Resolves (or returns) once done; never rejects. Asks nothing when nothing may
 * be stored (consent.ts): the lookup is a tracking request.
 */
export const learnIds = (config: TrackerConfig, base: string, signal?: AbortSignal): unknown =>
  (mayStore && !mayStore()) || readDeviceId() || getJson(base + ((READS_PATHS && config._paths?.[TRACKER_ROUTES.contactIds]) || TRACKER_ROUTES.contactIds), signal).then(storeIds, () => 0);
