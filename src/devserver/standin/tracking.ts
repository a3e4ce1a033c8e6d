/**
 * The tracking endpoints (docs/protocol.md §3–§6): `POST /mtc/event`, `GET /mtracking.gif`, `GET /mtc`,
 * `GET /mtc.js`, and the hit logic they share (Mautic's `PageModel::hitPage`).
 */
import { readFile } from 'node:fs/promises';
import {
  EVENT_URL_KEYS,
  TRACKING_PIXEL_GIF_BASE64,
  type ContactIdsResponse,
  type TrackingRefusal,
  type TrackingResponse,
} from '../../protocol/wire.js';
import { isFormContentType, parseFormLikePhp } from './body.js';
import type { BotFilter } from './bots.js';
import { decodeClickthrough } from './clickthrough.js';
import { COMPANY_FIELDS, UTM_KEYS, type ContactStore } from './contact-store.js';
import { deviceCookies, refererCookie } from './cookies.js';
import { newDeviceId } from './device-id.js';
import { flattenHeaders } from './headers.js';
import type { Recorder } from './recorder.js';
import { phpJsonReply, textReply, type Reply, type RequestContext } from './reply.js';
import type { Contact, RecordedHit, RecordedHitEvent } from './types.js';
import type { VisitorResolver } from './visitor.js';

export const TRACKING_PIXEL_GIF = Buffer.from(TRACKING_PIXEL_GIF_BASE64, 'base64');

/**
 * Caching headers of `/mtc/event`, `/mtc` and `/dwc/{slot}` answers (`Expires` is "now"), as
 * recorded; no `Mautic-Version` on any tracking answer.
 */
export function trackingJsonHeaders(nowMs: number): Record<string, string> {
  return { 'Cache-Control': 'max-age=0, must-revalidate, private', Expires: new Date(nowMs).toUTCString() };
}

/**
 * The pixel's headers exactly as recorded (mtracking_gif_*), including Mautic's non-standard
 * `Content-Encoding: none`: browsers pass an unknown coding through untouched, and a client or
 * relay of Mautic must cope with it too.
 */
function pixelHeaders(nowMs: number): Record<string, string> {
  return {
    'Cache-Control': 'max-age=0, must-revalidate, no-cache=Set-Cookie, private, proxy-revalidate',
    'Content-Encoding': 'none',
    'Content-Type': 'image/gif',
    'Content-Length': String(TRACKING_PIXEL_GIF.length),
    Expires: new Date(nowMs).toUTCString(),
    'Last-Modified': 'Wed, 11 Jan 2006 12:59:00 GMT',
    Pragma: 'no-cache',
  };
}

/** What Mautic answers a bot: tracked as nobody, with contact id 0 (not null) and no cookies. */
const BOT_RESPONSE: TrackingResponse = { success: 1, id: 0, sid: null, device_id: null, events: [] };
const BOT_IDS: ContactIdsResponse = { id: 0, sid: null, device_id: null };

export interface TrackingConfig {
  publiclyUpdatableFields: string[];
  uniqueFields: string[];
  ignoredIps: Set<string>;
  scriptFile: string;
  trackingEvents: Record<string, unknown[]> | undefined;
  bots: BotFilter;
  /** Mautic's "identify visitor by tracking URL" (`track_by_tracking_url`): `ct` names the contact. */
  trackByTrackingUrl: boolean;
}

interface HitOutcome {
  body: TrackingResponse | TrackingRefusal;
  cookies: string[];
}

export class TrackingHandlers {
  constructor(
    private readonly store: ContactStore,
    private readonly recorder: Recorder,
    private readonly visitors: VisitorResolver,
    private readonly config: TrackingConfig,
  ) {}

  /** `POST /mtc/event`: form body over the URL's own query, like PHP's `$_POST` over `$_GET`. */
  event(ctx: RequestContext): Reply {
    const fromBody = isFormContentType(ctx.headers['content-type']) ? parseFormLikePhp(ctx.bodyText) : {};
    const params = { ...parseFormLikePhp(ctx.rawQuery), ...fromBody };
    const outcome = this.hitPage(ctx, params, 'post');
    const headers: Record<string, string | string[]> = trackingJsonHeaders(ctx.nowMs);
    if (outcome.cookies.length) headers['Set-Cookie'] = outcome.cookies;
    return phpJsonReply(200, outcome.body, headers);
  }

  /** `GET /mtracking.gif?<hit query>`: the same hit, answered with the 43-byte GIF. */
  pixel(ctx: RequestContext): Reply {
    const outcome = this.hitPage(ctx, parseFormLikePhp(ctx.rawQuery), 'pixel');
    const headers: Record<string, string | string[]> = pixelHeaders(ctx.nowMs);
    if (outcome.cookies.length) headers['Set-Cookie'] = outcome.cookies;
    return { status: 200, headers, body: TRACKING_PIXEL_GIF };
  }

  /**
   * `GET /mtc[?mautic_device_id=…]`: the visitor's ids (device cookie, else parameter, else the
   * legacy session cookie). Like Mautic's contact tracker, a visitor it cannot recognise becomes a
   * new anonymous contact with a new device, and only then are `mautic_device_id` and `mtc_id` set
   * (mtc_get_contact_no_cookie vs _known_cookie); so a cross-site page whose Mautic cookie is
   * blocked gets a fresh contact here. Bots get id 0 and ignored IPs nulls, neither any cookie.
   */
  ids(ctx: RequestContext): Reply {
    const headers: Record<string, string | string[]> = trackingJsonHeaders(ctx.nowMs);
    if (this.config.ignoredIps.has(ctx.ip)) return phpJsonReply(200, { id: null, sid: null, device_id: null }, headers);
    if (this.config.bots.isBot(ctx.headers['user-agent'])) return phpJsonReply(200, BOT_IDS, headers);
    const params = parseFormLikePhp(ctx.rawQuery);
    const known = this.visitors.trackedContact(ctx, params);
    const contact = known ?? this.store.create('tracking');
    const { deviceId, isNew } = this.deviceFor(contact, this.visitors.presentedDeviceId(ctx, params));
    if (isNew) {
      this.store.addIp(contact, ctx.ip);
      contact.lastActive = new Date(ctx.nowMs).toISOString();
      this.store.changed(contact);
      headers['Set-Cookie'] = deviceCookies(contact.id, deviceId, ctx.nowMs);
    }
    const body: ContactIdsResponse = { id: contact.id, sid: deviceId, device_id: deviceId };
    return phpJsonReply(200, body, headers);
  }

  /** `GET /mtc.js`: the configured script, read on every request so rebuilds show up at once. */
  async script(): Promise<Reply> {
    try {
      const source = await readFile(this.config.scriptFile);
      return {
        status: 200,
        headers: { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-cache' },
        body: source,
      };
    } catch {
      return textReply(404, 'mtc.js not found: build it with `npm run build` or set scriptFile.');
    }
  }

  private hitPage(ctx: RequestContext, params: Record<string, string>, via: 'post' | 'pixel'): HitOutcome {
    const query = { ...pageUrlQuery(params.page_url), ...params };
    const base = this.baseHit(ctx, params, query, via);

    if (this.config.ignoredIps.has(ctx.ip)) {
      this.recorder.addHit({ ...base, contactId: null, deviceId: null, outcome: 'ignored' });
      return { body: { success: 1, id: null, sid: null, device_id: null, events: [] }, cookies: [] };
    }
    if (this.config.bots.isBot(ctx.headers['user-agent'])) {
      this.recorder.addHit({ ...base, contactId: null, deviceId: null, outcome: 'bot' });
      return { body: { ...BOT_RESPONSE, events: [] }, cookies: [] };
    }

    const found = this.findContact(ctx, query);
    if (found === 'refused') {
      this.recorder.addHit({ ...base, contactId: null, deviceId: null, outcome: 'refused' });
      return { body: { success: 0 }, cookies: [] };
    }
    const contact = found ?? this.store.create('tracking');
    const { deviceId, isNew } = this.deviceFor(contact, this.visitors.presentedDeviceId(ctx, query));

    this.applyHitData(contact, query, ctx);
    this.store.changed(contact);

    const seq = base.seq;
    this.recorder.addHit({ ...base, contactId: contact.id, deviceId, outcome: 'tracked' });
    const cookies = isNew ? deviceCookies(contact.id, deviceId, ctx.nowMs) : [];
    cookies.push(refererCookie(seq, ctx.nowMs));
    return {
      body: { success: 1, id: contact.id, sid: deviceId, device_id: deviceId, events: this.events() },
      cookies,
    };
  }

  /**
   * The presented device when it is this contact's; otherwise a new one. A new device is what makes
   * Mautic set `mautic_device_id` and `mtc_id` again (a new visitor, or a switch to another contact
   * through `ct` or a publicly updatable email).
   */
  private deviceFor(contact: Contact, presented: string | undefined): { deviceId: string; isNew: boolean } {
    if (presented !== undefined && this.store.findByDevice(presented)?.id === contact.id) {
      return { deviceId: presented, isNew: false };
    }
    const deviceId = newDeviceId();
    this.store.addDevice(contact, deviceId);
    return { deviceId, isNew: true };
  }

  private events(): TrackingResponse['events'] {
    const events = this.config.trackingEvents;
    return events && Object.keys(events).length > 0 ? structuredClone(events) : [];
  }

  /**
   * Clickthrough (only with "track by tracking URL" on; a malformed `ct` is refused either way) →
   * publicly updatable unique field → the tracked contact; `undefined` means "create one".
   */
  private findContact(ctx: RequestContext, query: Record<string, string>): Contact | undefined | 'refused' {
    const ct = query.ct;
    if (ct !== undefined && ct !== '') {
      const decoded = decodeClickthrough(ct);
      if (decoded.malformed) return 'refused';
      const contact = this.config.trackByTrackingUrl && decoded.leadId !== null ? this.store.get(decoded.leadId) : undefined;
      if (contact) return contact;
    }
    for (const field of this.config.uniqueFields) {
      if (!this.config.publiclyUpdatableFields.includes(field)) continue;
      const value = query[field];
      if (!value) continue;
      const contact = this.store.findNewestByField(field, value);
      if (contact) return contact;
    }
    return this.visitors.trackedContact(ctx, query);
  }

  private applyHitData(contact: Contact, query: Record<string, string>, ctx: RequestContext): void {
    const publicValues: Record<string, string> = {};
    for (const field of this.config.publiclyUpdatableFields) {
      const value = query[field];
      if (value !== undefined) publicValues[field] = value;
    }
    // Blanks never clear a field through tracking.
    this.store.writeFields(contact, publicValues, { overwriteWithBlank: false, zeroIsBlank: false });
    if (query.tags !== undefined) this.store.applyTags(contact, query.tags);
    if (COMPANY_FIELDS.some((key) => query[key])) this.store.applyCompany(contact, query);
    if (UTM_KEYS.some((key) => query[key])) {
      const utm: Parameters<ContactStore['addUtm']>[1] = { source: 'hit' };
      for (const key of UTM_KEYS) if (query[key]) utm[key] = query[key];
      if (query.page_url) utm.url = query.page_url;
      if (query.page_referrer) utm.referer = query.page_referrer;
      // Mautic keeps the hit's query (page_url's query merged in) and User-Agent on the row (docs/protocol.md §10).
      utm.query = { ...query };
      const userAgent = ctx.headers['user-agent'];
      if (typeof userAgent === 'string' && userAgent !== '') utm.userAgent = userAgent;
      this.store.addUtm(contact, utm);
    }
    this.store.addIp(contact, ctx.ip);
    contact.lastActive = new Date(ctx.nowMs).toISOString();
  }

  private baseHit(
    ctx: RequestContext,
    params: Record<string, string>,
    query: Record<string, string>,
    via: 'post' | 'pixel',
  ): Omit<RecordedHit, 'contactId' | 'deviceId' | 'outcome'> {
    const hit: Omit<RecordedHit, 'contactId' | 'deviceId' | 'outcome'> = {
      seq: this.recorder.nextHitSeq(),
      at: new Date(ctx.nowMs).toISOString(),
      via,
      method: ctx.method,
      path: ctx.path,
      params,
      query,
      pageUrl: query.page_url ?? null,
      title: query.page_title ?? null,
      referrer: query.page_referrer ?? null,
      ip: ctx.ip,
      userAgent: headerText(ctx.headers['user-agent']),
      headers: flattenHeaders(ctx.headers),
    };
    if (via === 'post') hit.rawBody = ctx.bodyText;
    else hit.rawQuery = ctx.rawQuery;
    const event = hitEvent(query);
    if (event) hit.event = event;
    return hit;
  }
}

/** The query of `page_url` with lower-cased keys (fragment ignored); {} when there is none. */
export function pageUrlQuery(pageUrl: string | undefined): Record<string, string> {
  if (!pageUrl) return {};
  const withoutFragment = pageUrl.split('#')[0] ?? '';
  const q = withoutFragment.indexOf('?');
  if (q === -1) return {};
  const parsed = parseFormLikePhp(withoutFragment.slice(q + 1));
  const lowered: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) lowered[key.toLowerCase()] = value;
  return lowered;
}

function hitEvent(query: Record<string, string>): RecordedHitEvent | undefined {
  const category = query[EVENT_URL_KEYS.category];
  const action = query[EVENT_URL_KEYS.action];
  if (category === undefined && action === undefined) return undefined;
  const event: RecordedHitEvent = { category: category ?? '', action: action ?? '' };
  const label = query[EVENT_URL_KEYS.label];
  const value = query[EVENT_URL_KEYS.value];
  if (label !== undefined) event.label = label;
  if (value !== undefined) event.value = value;
  return event;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
