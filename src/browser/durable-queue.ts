/**
 * The durable send queue (README "Durable queue"): a hit that could not be delivered (Mautic or
 * the proxy unreachable, a 5xx answer, a timeout) is kept in first-party storage and delivered
 * later, in call order, by one tab at a time: with backoff while the page lives, when the browser
 * comes back online, and from the next page load's first send on.
 *
 * Through our proxy (`config._proxy`, or the mark the proxy writes into dist/mtc.durable.js), every
 * hit carries `mt_hit_id`, which the proxy remembers, so any failure may be retried: a retry of a
 * hit that did reach Mautic is answered from the proxy's memory and not recorded twice. Straight to
 * Mautic there is no such memory, so only a send that certainly never reached Mautic (a network
 * error before any answer on both the POST and the pixel, or the browser offline) is kept; one that
 * may have reached it (an HTTP error, a timeout) fails as without the queue.
 *
 * Used by the npm entry and dist/mtc.durable.js; dist/mtc.js is built with durable.script-tag.ts in
 * its place (rollup.config.mjs), which has none of it.
 */
import { HIT_ID_PARAM, QUEUED_DELIVERED_EVENT, QUEUE_LEASE_KEY, SCRIPT_VIA_MAUTIC, FORM_CONTENT_TYPE, REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../protocol/wire.js';
import { encodeParams } from './encode.js';
import { newHitId } from './hit-id.js';
import { learnIds, readDeviceId, storeIds } from './identity.js';
import { createLease } from './queue-lease.js';
import { DEFAULT_BOUNDS, listSends, pruneSends, removeSend, writeSend, type QueuedSend } from './queue-storage.js';
import { beaconHit, loadPixel, request } from './transport.js';
import type { Delivered, DurableHit, HitParams, SendResult, TrackerConfig } from './types.js';

/** What one attempt came to: delivered, or failed and worth another try (or not). */
type Attempt = { ok: true; via: 'post' | 'pixel'; response?: unknown; params: HitParams } | { ok: false; retry: boolean };

/** Backoff between retries while the page lives: 1 s, doubling, at most 30 s. */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/** This page load's id, for the delivery lease. */
const tab = newHitId();
const lease = createLease(tab);
/** Sends of this page whose write-ahead entry makes a timeout a kept send (through the proxy). */
const kept = new WeakSet<AbortSignal>();
/** The first durable tracker's config: its timeout, debug flag and bounds serve the queue. */
let owner: TrackerConfig | undefined;
let sequence = 0;
let flushing = false;
let backoff = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

/** Whether hits go through our proxy: the npm option, else the mark in the served script. */
const viaProxy = (config: TrackerConfig): boolean => config._proxy ?? SCRIPT_VIA_MAUTIC.endsWith('proxy');

/** The browser says it has no network (a fresh read each time: it changes while we wait). */
const offline = (): boolean => navigator.onLine === false;

const boundsOf = (config: TrackerConfig) => ({ ...DEFAULT_BOUNDS, ...(config._durable || {}) });

const warn = (config: TrackerConfig | undefined, message: string, entry: QueuedSend): void => {
  if (config?._debug) console.warn('mt: ' + message, entry.p);
};

/** A failure that was kept for later: `onerror` gets an Error with `queued: true`. */
const queuedFailure = (reason: string): SendResult => {
  const error = Object.assign(Error(reason), { queued: true as const });
  return { ok: false, error, queued: true };
};

/**
 * The core's timeout outcome for a send: kept (queued) when its entry is stored already, else a
 * plain failure. tracker.ts calls it in place of its own when the durable queue is built in.
 */
export const timedOut: ((signal: AbortSignal) => SendResult) | undefined = (signal) => (kept.has(signal) ? queuedFailure('timeout') : { ok: false, error: Error('timeout') });

/** The kept params with the device id learnt since (so a new visitor's kept hits make one contact). */
const withDeviceId = (params: HitParams): HitParams => {
  const deviceId = readDeviceId();
  if (params.mautic_device_id || !deviceId) return params;
  const filled: HitParams = {};
  for (const key in params) {
    filled[key] = params[key]!;
    // Where pageParams puts it: right after the defaults' timezone.
    if (key == 'timezone') filled.mautic_device_id = deviceId;
  }
  filled.mautic_device_id ||= deviceId;
  return filled;
};

/**
 * One try of `entry`: the POST, then (on any failure but a timeout) the pixel, as tracker.ts
 * delivers. `retry` says whether a failure may be tried again without counting twice.
 */
const attempt = async (entry: QueuedSend, config: TrackerConfig, signal: AbortSignal): Promise<Attempt> => {
  const params = withDeviceId(entry.p);
  const proxied = !!entry.h;
  const body = encodeParams(proxied ? { ...params, [HIT_ID_PARAM]: entry.i } : params);
  // Offline: nothing can leave the browser, so nothing reached anyone.
  if (offline()) return { ok: false, retry: true };
  let reached = true;
  // A 4xx other than 408 and 429 refuses the hit itself: tried again it would block the queue.
  let refused = false;
  try {
    const response = await request(entry.u, signal, { 'Content-Type': FORM_CONTENT_TYPE, [REQUESTED_WITH_HEADER]: REQUESTED_WITH_VALUE }, body);
    refused = response.status >= 400 && response.status < 500 && response.status != 408 && response.status != 429;
    if (response.status == 200) {
      // A 200 that is not JSON still means Mautic took the hit.
      const answer = await response.json().catch(() => undefined);
      storeIds(answer);
      return { ok: true, via: 'post', response: answer, params };
    }
  } catch (error) {
    // fetch rejects with a TypeError for a network error (no answer at all), and with an
    // AbortError when the attempt timed out, which may have reached the server.
    reached = !(error instanceof TypeError);
  }
  if (signal.aborted) return { ok: false, retry: proxied };
  try {
    await loadPixel(entry.x + '?' + body, signal);
    await learnIds(config, config._url, signal);
    return { ok: true, via: 'pixel', params };
  } catch {
    // The pixel tells no status: straight to Mautic, a send is retried only after a network error
    // on the POST and a failed pixel (an image that never ended may have reached Mautic).
    return { ok: false, retry: proxied ? !refused : offline() || (!reached && !signal.aborted) };
  }
};

/** Tells the page that a kept send was delivered (its callbacks settled when it was kept). */
const announce = (kind: QueuedSend['k'], outcome: Attempt & { ok: true }): void => {
  const detail = { ok: true, via: outcome.via, event: kind, params: outcome.params, queued: true } as Delivered & { queued: true };
  if (outcome.via == 'post') detail.response = outcome.response as Delivered['response'];
  else detail.image = true;
  document.dispatchEvent(new CustomEvent(QUEUED_DELIVERED_EVENT, { detail }));
};

/** Enforces the bounds now (a send joining a long queue may push the oldest out). */
const prune = (config: TrackerConfig): QueuedSend[] =>
  pruneSends(boundsOf(config), Date.now(), (entry, why) => warn(config, 'dropped a kept send (' + why + ')', entry));

const later = (ms: number): void => {
  clearTimeout(timer);
  timer = setTimeout(flush, ms);
};

/**
 * Delivers the kept sends of this origin, oldest first, one at a time, while this tab holds the
 * lease; stops at the first that fails and tries again after the backoff.
 */
const flush = async (): Promise<void> => {
  const config = owner;
  if (flushing || !config) return;
  flushing = true;
  clearTimeout(timer);
  try {
    for (;;) {
      const head = prune(config)[0];
      if (!head) return lease.release();
      // Its own tab is still trying it: wait for that try to end.
      if (head.w && head.w > Date.now()) return later(head.w - Date.now());
      // The online event starts the next round.
      if (offline()) return;
      if (!(await lease.take(config._timeout + 5000))) return later(lease.heldElsewhereFor() + 50);
      // Another tab may have delivered it while this one took the lease.
      if (!listSends().some((item) => item.entry.i == head.i)) continue;
      const controller = new AbortController();
      const deadline = setTimeout(() => controller.abort(), config._timeout);
      const outcome = await attempt(head, config, controller.signal);
      clearTimeout(deadline);
      if (outcome.ok) {
        removeSend(head.i);
        backoff = 0;
        announce(head.k, outcome);
      } else if (outcome.retry) {
        // It stays where it is, at the head.
        backoff = Math.min(backoff ? backoff * 2 : FIRST_RETRY_MS, LAST_RETRY_MS);
        return later(backoff);
      } else {
        removeSend(head.i);
        warn(config, 'a kept send failed and may have reached Mautic: not retried', head);
      }
    }
  } catch {
    // Nothing may reach the host page; the next send or the online event starts again.
  } finally {
    flushing = false;
  }
};

/** Listens once per page: online, the lease given up by another tab, and this page going away. */
const install = (config: TrackerConfig): void => {
  if (owner) return;
  owner = config;
  addEventListener('online', () => void flush());
  addEventListener('storage', (event) => event.key == QUEUE_LEASE_KEY && !event.newValue && void flush());
  addEventListener('pagehide', () => {
    clearTimeout(timer);
    lease.release();
  });
  // Back from the back/forward cache.
  addEventListener('pageshow', (event) => event.persisted && void flush());
};

/** A kept send for `params`, the next in this tab's call order. */
const entryFor = (kind: QueuedSend['k'], params: HitParams, eventUrl: string, pixelUrl: string, proxied: boolean): QueuedSend => {
  const entry: QueuedSend = { i: newHitId(), t: Date.now(), s: sequence++, k: kind, u: eventUrl, x: pixelUrl, p: params };
  if (proxied) entry.h = 1;
  return entry;
};

/**
 * Delivers one hit of the core (tracker.ts calls this in place of its own delivery) and settles
 * it with `finish`: delivered, or kept (`onerror` with `queued: true`), or failed.
 *
 * - Kept sends are waiting, or the browser is offline: the hit joins the queue behind them (call
 *   order) and settles as kept at once; the queue delivers it.
 * - Else it is tried now. Through the proxy its entry is written first (so a tab closed mid-send
 *   leaves it for the next page load, whose retry the proxy deduplicates), marked as being tried.
 * - `leaving` (pagehide before it could go): handed to `sendBeacon`; through the proxy it is kept as
 *   well (the beacon's fate is unknown; its retry is deduplicated).
 */
export const durableHit: DurableHit | undefined = (config, kind, params, eventUrl, pixelUrl, finish, signal, leaving) => {
  install(config);
  const proxied = viaProxy(config);
  const entry = entryFor(kind, params, eventUrl, pixelUrl, proxied);
  const delivered = (more: Partial<Delivered>) => finish({ ok: true, event: kind, params, ...more } as Delivered);
  if (leaving) {
    const body = encodeParams(proxied ? { ...params, [HIT_ID_PARAM]: entry.i } : params);
    const handed = beaconHit(eventUrl, body);
    if ((proxied || !handed) && writeSend(entry) && (prune(config), !handed)) return finish(queuedFailure('beacon'));
    return handed ? delivered({ via: 'beacon', beacon: true }) : finish({ ok: false, error: Error('beacon') });
  }
  if (prune(config).length || offline()) {
    if (!writeSend(entry)) return finish({ ok: false, error: Error('failed') });
    prune(config);
    finish(queuedFailure('queued'));
    return flush();
  }
  if (proxied) {
    entry.w = Date.now() + config._timeout;
    if (writeSend(entry)) kept.add(signal);
  }
  return attempt(entry, config, signal).then((outcome) => {
    if (outcome.ok) {
      removeSend(entry.i);
      // Settled already (the core's timeout came first, as a kept send): tell the page now.
      if (signal.aborted && kept.has(signal)) announce(kind, outcome);
      return delivered(outcome.via == 'post' ? { via: 'post', response: outcome.response as Delivered['response'] } : { via: 'pixel', image: true });
    }
    delete entry.w;
    if (outcome.retry && writeSend(entry)) {
      prune(config);
      finish(queuedFailure(signal.aborted ? 'timeout' : 'failed'));
      backoff = Math.max(backoff, FIRST_RETRY_MS);
      return later(backoff);
    }
    removeSend(entry.i);
    finish({ ok: false, error: Error('failed') });
  });
};
