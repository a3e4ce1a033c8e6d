/** Cookie parsing and the cookies Mautic sets on its own host (PROTOCOL §4). */
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

function cookie(name: string, value: string, maxAgeSeconds: number | null, nowMs: number): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'path=/'];
  if (maxAgeSeconds !== null) {
    parts.push(`expires=${new Date(nowMs + maxAgeSeconds * 1000).toUTCString()}`, `Max-Age=${maxAgeSeconds}`);
  }
  parts.push('SameSite=None', 'Secure');
  return parts.join('; ');
}

/**
 * `mautic_device_id` (1 year), `mtc_id` (session), and after a hit `mautic_referer_id`
 * (30 minutes, the hit's id).
 */
export function trackingCookies(contactId: number, deviceId: string, hitId: number | null, nowMs: number): string[] {
  const cookies = [
    cookie(MAUTIC_COOKIES.deviceId, deviceId, ONE_YEAR_SECONDS, nowMs),
    cookie(MAUTIC_COOKIES.contactId, String(contactId), null, nowMs),
  ];
  if (hitId !== null) cookies.push(cookie(MAUTIC_COOKIES.refererId, String(hitId), THIRTY_MINUTES_SECONDS, nowMs));
  return cookies;
}
