/**
 * Cookie parsing and the cookies Mautic 5.1 sets on its own host (docs/protocol.md §4, §10.13), written the way
 * PHP's `setcookie` writes them: `expires` with dashes (`Wed, 01-Dec-2027 07:56:20 GMT`), then
 * `Max-Age`, then lower-case `path=/; secure; samesite=none` — recorded in
 * track_event_new_visitor_plain. Mautic sets `secure` even over plain http.
 */
import { MAUTIC_COOKIES } from '../../protocol/wire.js';

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      cookies[name] = part.slice(eq + 1).trim();
    }
  }
  return cookies;
}

const ONE_YEAR_SECONDS = 365 * 24 * 3600;
const THIRTY_MINUTES_SECONDS = 30 * 60;

/** PHP's cookie date: like an HTTP date, but `01-Dec-2027` instead of `01 Dec 2027`. */
export function phpCookieDate(ms: number): string {
  const [weekday, day, month, year, time, zone] = new Date(ms).toUTCString().split(' ');
  return `${weekday} ${day}-${month}-${year} ${time} ${zone}`;
}

function cookie(name: string, value: string, maxAgeSeconds: number | null, nowMs: number): string {
  const parts = [`${name}=${encodeURIComponent(value)}`];
  if (maxAgeSeconds !== null) {
    parts.push(`expires=${phpCookieDate(nowMs + maxAgeSeconds * 1000)}`, `Max-Age=${maxAgeSeconds}`);
  }
  parts.push('path=/', 'secure', 'samesite=none');
  return parts.join('; ');
}

/**
 * `mautic_device_id` (1 year) and `mtc_id` (session): only when the visitor got a new device,
 * i.e. a new visitor or a switch to another contact. A returning device gets neither.
 */
export function deviceCookies(contactId: number, deviceId: string, nowMs: number): string[] {
  return [
    cookie(MAUTIC_COOKIES.deviceId, deviceId, ONE_YEAR_SECONDS, nowMs),
    cookie(MAUTIC_COOKIES.contactId, String(contactId), null, nowMs),
  ];
}

/** `mautic_referer_id` (30 minutes): the id of the hit just recorded, on every tracked hit. */
export function refererCookie(hitId: number, nowMs: number): string {
  return cookie(MAUTIC_COOKIES.refererId, String(hitId), THIRTY_MINUTES_SECONDS, nowMs);
}

/**
 * `mautic_device_id` + `mtc_id`, plus `mautic_referer_id` when a hit id is given: for answers
 * outside tracking that issue a device (the REST UTM answer, api_utm_add_200).
 */
export function trackingCookies(contactId: number, deviceId: string, hitId: number | null, nowMs: number): string[] {
  const cookies = deviceCookies(contactId, deviceId, nowMs);
  if (hitId !== null) cookies.push(refererCookie(hitId, nowMs));
  return cookies;
}
