/**
 * Which contact a tracking request belongs to before any clickthrough or publicly updatable field
 * is looked at: Mautic 5.1's contact tracker (`/mtc/event`, `/mtracking.gif`, `/mtc`, `/dwc`;
 * docs/protocol.md §10.12, §10.16).
 */
import { MAUTIC_COOKIES } from '../../protocol/wire.js';
import type { ContactStore } from './contact-store.js';
import { parseCookies } from './cookies.js';
import type { RequestContext } from './reply.js';
import type { Contact } from './types.js';

/**
 * Mautic's pre-device tracking cookie: `mautic_session_id=<x>` plus a cookie named `<x>` holding a
 * contact id (or, without that cookie, an `mtc_id` parameter). Mautic 5.1 still honours it
 * (docs/protocol.md §10.16, track_event_legacy_session_cookie_claims_A), so anyone who can set
 * two cookies on Mautic's host can claim a contact: a relay must never forward it.
 */
export const LEGACY_SESSION_COOKIE = 'mautic_session_id';

export class VisitorResolver {
  constructor(private readonly store: ContactStore) {}

  /**
   * Mautic's own `mautic_device_id` cookie wins even when no device has that id (then the visitor
   * is new: track_event_unknown_device_cookie); the parameter the script sends counts only when
   * there is no cookie at all (track_event_returning_device_id_param_no_cookie).
   */
  presentedDeviceId(ctx: RequestContext, params: Record<string, string>): string | undefined {
    const fromCookie = parseCookies(ctx.headers.cookie)[MAUTIC_COOKIES.deviceId];
    if (fromCookie !== undefined) return fromCookie === '' ? undefined : fromCookie;
    const fromParam = params[MAUTIC_COOKIES.deviceId];
    return fromParam ? fromParam : undefined;
  }

  /** The tracked contact: by device, else by the legacy session cookie; undefined = a new visitor. */
  trackedContact(ctx: RequestContext, params: Record<string, string>): Contact | undefined {
    const deviceId = this.presentedDeviceId(ctx, params);
    const byDevice = deviceId ? this.store.findByDevice(deviceId) : undefined;
    return byDevice ?? this.legacyContact(ctx, params);
  }

  /**
   * Mautic's ContactTrackingService: the contact the legacy cookies name (or the contact it was
   * merged into), but only while that contact has no tracked device — once it has one, the
   * legacy cookies no longer claim it.
   */
  private legacyContact(ctx: RequestContext, params: Record<string, string>): Contact | undefined {
    const cookies = parseCookies(ctx.headers.cookie);
    const sessionId = cookies[LEGACY_SESSION_COOKIE];
    if (!sessionId) return undefined;
    const idText = cookies[sessionId] ?? params[MAUTIC_COOKIES.contactId];
    if (idText === undefined || !/^\d{1,15}$/.test(idText.trim())) return undefined;
    const id = Number(idText.trim());
    const contact = this.store.get(id) ?? this.mergedInto(id);
    if (!contact || contact.deviceIds.length > 0) return undefined;
    return contact;
  }

  private mergedInto(id: number): Contact | undefined {
    const survivor = this.store.snapshot().find((contact) => contact.mergedFrom.includes(id));
    return survivor ? this.store.get(survivor.id) : undefined;
  }
}
