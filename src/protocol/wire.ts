/**
 * The Mautic tracking wire contract (docs/protocol.md), as constants and
 * types shared by the browser SDK, the server proxy and the Mautic stand-in.
 *
 * Nothing here touches `window`, `document` or any `node:*` module, so every runtime can import it.
 */

/** Storage keys shared with Mautic's own script, so visitors survive a switch either way (§5). */
export const STORAGE_KEYS = {
  contactId: 'mtc_id',
  deviceId: 'mautic_device_id',
} as const;

/** Cookies Mautic sets on its own host (§4). */
export const MAUTIC_COOKIES = {
  deviceId: 'mautic_device_id',
  contactId: 'mtc_id',
  refererId: 'mautic_referer_id',
} as const;

/**
 * Headers Mautic reads the client IP from (§6), in its precedence order: the first valid address
 * wins, then the socket address. Mautic applies no trusted-proxy check, so anything relaying to
 * Mautic must never pass these through from a visitor.
 */
export const MAUTIC_CLIENT_IP_HEADERS = [
  'client-ip',
  'x-forwarded-for',
  'x-forwarded',
  'x-cluster-client-ip',
  'forwarded-for',
  'forwarded',
] as const;

/** Header Mautic's CORS middleware requires before it adds CORS headers to a response (§6). */
export const REQUESTED_WITH_HEADER = 'X-Requested-With';
export const REQUESTED_WITH_VALUE = 'XMLHttpRequest';

/** Content type of a hit body. Mautic's script sends no charset parameter. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** The 43-byte transparent GIF Mautic answers on the pixel path, base64. */
export const TRACKING_PIXEL_GIF_BASE64 = 'R0lGODlhAQABAJAAAP8AAAAAACH5BAUQAAAALAAAAAABAAEAAAICBAEAOw==';

/** Name of the DOM event dispatched on `document` after each delivery (§5). */
export const DELIVERED_EVENT = 'mauticPageEventDelivered';

/**
 * Name of the DOM event dispatched on `document` when a send that was kept in the durable queue
 * (its callbacks already settled with `onerror`, `queued: true`) is delivered later; `detail` is
 * the delivered outcome with `queued: true`. Ours, not Mautic's: README "Durable queue".
 */
export const QUEUED_DELIVERED_EVENT = 'mauticQueuedSendDelivered';

/** localStorage key prefix of the durable queue's entries (one key per kept send). */
export const QUEUE_KEY_PREFIX = 'mt_queue_';
/** localStorage key of the durable queue's delivery lease (one tab delivers at a time). */
export const QUEUE_LEASE_KEY = 'mt_queue.lease';

/**
 * Marks dist/mtc.durable.js as served straight by Mautic (or any static host). Our proxy replaces
 * it with `SCRIPT_VIA_PROXY` in the copy it serves, which tells the script that its hits go
 * through a proxy that deduplicates hit ids, so every failed send can be retried safely.
 */
export const SCRIPT_VIA_MAUTIC = 'mt:via=mautic';
export const SCRIPT_VIA_PROXY = 'mt:via=proxy';

/** Default hit parameters, in the order Mautic's script sends them (§3). */
export const DEFAULT_HIT_KEYS = [
  'page_title',
  'page_language',
  'preferred_locale',
  'page_referrer',
  'page_url',
  'counter',
  'timezone_offset',
  'resolution',
  'platform',
  'do_not_track',
  'timezone',
  'mautic_device_id',
] as const;

export type DefaultHitKey = (typeof DEFAULT_HIT_KEYS)[number];

/**
 * A hit's id, for exactly-once delivery through the proxy (docs/protocol.md §3, "Hit ids"): a
 * form-body parameter of `POST /mtc/event` or a query parameter of the pixel. The proxy remembers
 * it and strips it; Mautic never sees it.
 */
export const HIT_ID_PARAM = 'mt_hit_id';
/** 16–64 characters of `[0-9a-z]` (at least 80 bits when random). */
export const HIT_ID_PATTERN = /^[0-9a-z]{16,64}$/;

/** A device id as Mautic issues it: 23 characters of `[0-9a-z]`. We accept 1–64 to be lenient. */
export const DEVICE_ID_PATTERN = /^[0-9a-z]{1,64}$/;

/**
 * Query keys that carry a custom event inside a hit's `page_url` (Mautic has no event endpoint,
 * so an event is a hit on a URL that segments and campaign decisions can match).
 */
export const EVENT_URL_KEYS = {
  category: 'mt_category',
  action: 'mt_action',
  label: 'mt_label',
  value: 'mt_value',
} as const;

/** The JSON body of a successful `POST /mtc/event` (§4). */
export interface TrackingResponse {
  success: 1;
  /** Contact id, or `null` for bots and ignored IPs. */
  id: number | null;
  /** Legacy name of `device_id`. */
  sid: string | null;
  device_id: string | null;
  /** `[]` when empty, otherwise campaign actions keyed by type. */
  events: unknown[] | Record<string, unknown[]>;
}

/** What Mautic answers when it refuses to track (a logged-in Mautic user, malformed `ct`). */
export interface TrackingRefusal {
  success: 0;
}

/** The JSON body of `GET /mtc` (§3, fallback). */
export interface ContactIdsResponse {
  id: number | null;
  sid: string | null;
  device_id: string | null;
}
