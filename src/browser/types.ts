/**
 * Public types of the browser SDK, shared by the npm entry and the script tag.
 */
import type { TrackingRefusal, TrackingResponse } from '../protocol/wire.js';

/** Hit parameters after encoding rules: every value is a string, keys in wire order. */
export type HitParams = Record<string, string>;

/** What a send is for: a page hit, a custom event, or an identification through our proxy. */
export type SendKind = 'pageview' | 'event' | 'identify';

/**
 * The outcome of one send. Promises of the SDK never reject: failure is `{ ok: false, error }`.
 *
 * A delivered outcome is also the `detail` of the `mauticPageEventDelivered` DOM event and the
 * argument of `onload`: Mautic's `{ event, params, response }` after a readable POST,
 * `{ event, params, image: true }` after the pixel, `{ event, params, beacon: true }` after a
 * `navigator.sendBeacon` hand-off at `pagehide`, each with our `ok` and `via` added.
 *
 * A `POST` answered `200 {"success":0}` (Mautic refuses to track: a logged-in Mautic user on that
 * host, or a malformed `ct`) counts as delivered: Mautic received the hit and answered, so it is
 * not a transport failure and retrying would not help. It resolves `{ ok: true, via: 'post',
 * response: { success: 0 }, … }` and stores no ids.
 */
export type SendResult = Delivered | { ok: false; error: QueuedError; queued?: true };

/**
 * The error of a failed send. `queued: true` when the durable queue kept the send for later (npm
 * entry, dist/mtc.durable.js): it is delivered when Mautic can be reached again, and the
 * `mauticQueuedSendDelivered` event says so (README "Durable queue").
 */
export type QueuedError = Error & { queued?: true };

/** A delivered send; see {@link SendResult}. */
export interface Delivered {
  ok: true;
  via: 'post' | 'pixel' | 'beacon';
  /** The parsed JSON answer of a `/mtc/event` POST (identify does not read its answer). */
  response?: TrackingResponse | TrackingRefusal;
  event: SendKind;
  /** The parameters sent, as strings in wire order (for `identify`: `{ email }`). */
  params: HitParams;
  image?: true;
  beacon?: true;
}

/** The `detail` of `mauticPageEventDelivered` and the argument of `onload`. */
export type DeliveredDetail = Delivered;

/** Delivery callbacks: exactly one of them is called, exactly once, within `timeout` ms. */
export interface SendCallbacks {
  onload?: (detail: Delivered) => void;
  onerror?: (error: Error) => void;
}

/**
 * The live settings of one tracker, set through `createTracker` options and `mt('config', …)`
 * (keys `url`, `timeout`, `debug`). Internal: the `_` names are mangled in dist/mtc.js.
 */
export interface TrackerConfig {
  /** Mautic (or proxy) base URL without a trailing slash, e.g. `https://mautic.example.com`. */
  _url: string;
  /** Milliseconds after which a send settles with an error at the latest. Default 5000. */
  _timeout: number;
  /** Log ignored commands (`console.warn`) and callback errors (`console.error`). */
  _debug: boolean | undefined;
  /**
   * Renamed routes (the npm entry's `paths`), keyed by the default route: `{ '/mtc/event': '/e' }`.
   * The script tag has none: the proxy serving it carries its renames into the script itself.
   */
  _paths?: Record<string, string>;
  /** The durable queue (npm entry): its bounds, or false for none. The script variant: default bounds. */
  _durable?: Partial<QueueBoundsOption> | false;
  /** Hits go through our proxy (it deduplicates `mt_hit_id`); npm option `proxy`. */
  _proxy?: boolean;
  /** Consent (consent.ts): `'required'` until the visitor decides, then `'grant'` or `'deny'`; absent: not asked. */
  _consent?: string;
  /** `honorGpc: false`: Global Privacy Control does not stop tracking. */
  _ignoreGpc?: boolean;
  /** `honorDnt: false`: Do Not Track does not stop tracking. */
  _ignoreDnt?: boolean;
}

/** Bounds of the durable queue (npm option `durable`); defaults 50 sends, 64 KiB, 24 hours. */
export interface QueueBoundsOption {
  /** At most this many kept sends; the oldest is dropped for a newer one. */
  maxSends: number;
  /** At most this much stored (UTF-16 code units, as localStorage counts). */
  maxBytes: number;
  /** Kept sends older than this (ms since they were called) are dropped. */
  maxAgeMs: number;
}

/** Input of `identify`, posted as given as the JSON body of `POST {base}/identify` to our proxy (Mautic has no such route). */
export interface IdentifyInput {
  email: string;
  fields?: Record<string, unknown>;
  /** A token from the site's backend binding this browser to the identity (see the proxy). */
  token?: string;
}

/**
 * The durable queue's delivery of one hit (durable-queue.ts), called by the core in place of its
 * own; `undefined` in dist/mtc.js, which has no queue. Internal.
 */
export type DurableHit = (
  config: TrackerConfig,
  kind: 'pageview' | 'event',
  params: HitParams,
  eventUrl: string,
  pixelUrl: string,
  finish: (result: SendResult) => void,
  signal: AbortSignal,
  leaving?: 1,
) => unknown;
