/**
 * The tracker core shared by the script tag and the npm entry: ordering, duplicate suppression,
 * delivery with fallback, the delivered event, and settling every send exactly once.
 *
 * Only called in a browser (the npm entry checks first).
 */
import { TRACKER_ROUTES } from '../protocol/routes.js';
import { DELIVERED_EVENT } from '../protocol/wire.js';
import { READS_PATHS } from './route-url.js';
import { encodeParams, mergeParams } from './encode.js';
import { eventUrl, pageParams } from './page-params.js';
import { learnIds, readDeviceId, storeIds } from './identity.js';
import { beaconHit, loadPixel, postHit, postJson } from './transport.js';
import { durableHit, timedOut } from './durable-queue.js';
import { createConsent } from './consent.js';
import type { SendKind, SendResult, TrackerConfig } from './types.js';

/** The page's `{ onload, onerror }`, as handed in (anything: checked by the optional calls). */
type PageCallbacks = Record<string, ((arg: unknown) => void) | undefined> | undefined;
type Finish = (result: SendResult) => void;
/**
 * Puts a send on the wire once the ordering gate opens and settles it with `finish`, or, with
 * `leaving`, hands it to the browser at pagehide while it still waits for the gate. A throw or a
 * rejection settles the send as a failure with that reason.
 */
type Deliver = (finish: Finish, signal: AbortSignal, leaving?: 1) => unknown;

/** The core API; arguments are whatever the page passed (validated, never trusted). */
export interface TrackerCore {
  // Not `_` names (which dist/mtc.js mangles, rollup.config.mjs): the npm entry calls the core the
  // script tag made, and the other way round, when both are on one page (page-state.ts).
  pageview(params?: unknown, callbacks?: unknown): Promise<SendResult>;
  event(category?: unknown, action?: unknown, label?: unknown, value?: unknown, params?: unknown, callbacks?: unknown): Promise<SendResult>;
  identify(input?: unknown, callbacks?: unknown): Promise<SendResult>;
  /**
   * `'grant'` or `'deny'` (consent.ts); anything else is ignored. Absent from a core dist/mtc.js
   * made, which has no consent mode.
   */
  consent?(decision?: unknown): void;
}

/** Our reasons are strings; a rejection's reason (TypeError, Event, nothing) becomes a message. */
const failure = (reason?: unknown): SendResult => ({ ok: false, error: Error((reason as string) || 'failed') });

/**
 * Creates the core. `config` is read at each call, so `mt('config', …)` affects later sends.
 *
 * Ordering: the first send of the page load goes at once; later ones wait until it settled
 * (delivered and ids learnt, or failed, or timed out), so a new visitor becomes one contact.
 * Deadline: every send settles within `config._timeout` ms of the call, whatever the server does;
 * a send that timed out before it was on the wire is not sent any more.
 *
 * @example const core = createCore({ _url: 'https://m.example.com', _timeout: 5000, _debug: false });
 * core.pageview({ email: 'jane@example.com' }, { onload: () => location.assign('/thanks') });
 */
export const createCore = (config: TrackerConfig): TrackerCore => {
  let counter = 0;
  let gate: Promise<unknown> | undefined;
  let lastPageview: string | undefined;
  let lastResult: Promise<SendResult> | undefined;
  /** Calls the page's callback for `result`; a throwing or odd callback never breaks anything. */
  const settle = (callbacks: unknown, result: SendResult): SendResult => {
    try {
      // A missing callback is skipped; a non-function one throws a TypeError, caught below.
      result.ok ? (callbacks as PageCallbacks)?.onload?.(result) : (callbacks as PageCallbacks)?.onerror?.(result.error);
    } catch (error) {
      if (config._debug) console.error(error);
    }
    return result;
  };

  // Consent (npm entry, dist/mtc.durable.js); dist/mtc.js has none and this folds away there.
  const consent = createConsent && createConsent(config, settle);

  /**
   * Runs one send: `deliver` once the gate opens, `deliver(…, 1)` at pagehide while it still
   * waits, and a deadline of `config._timeout` ms from now. Settling (delivered, failed or timed
   * out) aborts the send's signal, which ends whatever it still has on the wire and tells every
   * later step that the send is over. Later sends wait for the first one to settle. Consent
   * (consent.ts) holds or refuses a send before any of this.
   */
  const send = (kind: SendKind, callbacks: unknown, deliver: Deliver): Promise<SendResult> => {
    const held = consent && consent._hold(callbacks, () => send(kind, 0, deliver));
    if (held) return held;
    let finish!: Finish;
    const controller = new AbortController();
    const signal = controller.signal;
    // A promise settles once: later calls of `finish` (a late answer after the deadline) are no-ops.
    const result = new Promise<SendResult>((resolve) => (finish = resolve));
    result.then((outcome) => {
      controller.abort();
      // The delivered event is Mautic's (§5): for hits only, not for our proxy's identify.
      if (outcome.ok && kind != 'identify') document.dispatchEvent(new CustomEvent(DELIVERED_EVENT, { detail: outcome }));
      settle(callbacks, outcome);
    });
    // Left to run out after an earlier outcome: by then it is a no-op.
    // With the durable queue, a timeout of a send it already kept says so (`queued: true`).
    setTimeout(() => finish(durableHit ? timedOut!(signal) : failure('timeout')), config._timeout);
    const onLeave = () => signal.aborted || deliver(finish, signal, 1);
    // Only a send that waits can be caught by pagehide before it is on the wire.
    if (gate) addEventListener('pagehide', onLeave);
    Promise.resolve(gate)
      .then(() => {
        removeEventListener('pagehide', onLeave);
        return signal.aborted || deliver(finish, signal);
      })
      // Delivery paths settle themselves; this settles throws and rejections, with their reason.
      .catch((reason) => finish(failure(reason)));
    gate ||= result;
    return result;
  };

  /** A hit on `/mtc/event`: page URL and title read now, the rest when it goes on the wire. */
  const hit = (kind: 'pageview' | 'event', url: string, custom: unknown, callbacks: unknown): Promise<SendResult> => {
    const base = config._url;
    // Renamed routes (npm `paths`); dist/mtc.js reads none (route-url.ts).
    const paths = READS_PATHS && config._paths;
    const eventRoute = base + ((paths && paths[TRACKER_ROUTES.event]) || TRACKER_ROUTES.event);
    const title = document.title;
    const extra = mergeParams({}, custom);
    const key = url + title + encodeParams(extra);
    // A second snippet or a double call: settle with the first one's outcome, send nothing.
    if (kind == 'pageview' && key == lastPageview) return lastResult!.then((result) => settle(callbacks, result));
    const count = counter++;
    const result = send(kind, callbacks, (finish, signal, leaving) => {
      const sent = pageParams(count, url, title, readDeviceId(), extra);
      // The durable queue (npm entry, dist/mtc.durable.js) delivers it instead; dist/mtc.js has none.
      // The script variant has no option to turn it off, so the minifier drops the code below
      // there, and each default route stays in the script once (src/server/core/script-routes.ts).
      if (durableHit && (!READS_PATHS || config._durable !== false)) {
        return durableHit(config, kind, sent, eventRoute, base + ((paths && paths[TRACKER_ROUTES.pixel]) || TRACKER_ROUTES.pixel), finish, signal, leaving);
      }
      const body = encodeParams(sent);
      const delivered = (via: 'post' | 'pixel' | 'beacon', more: object) =>
        finish({ ok: true, via, event: kind, params: sent, ...more } as SendResult);
      return leaving
        ? beaconHit(eventRoute, body)
          ? delivered('beacon', { beacon: true })
          : finish(failure('beacon'))
        : postHit(eventRoute, body, signal).then(
            (response) => {
              storeIds(response);
              delivered('post', { response });
            },
            // Any POST failure: the pixel (Mautic records the same hit). Before settling, learn
            // the ids when none is stored (a known device id is all a later hit needs, and a
            // lookup without Mautic's cross-site, blocked cookie could answer another device),
            // so that the next send, waiting for this one, carries them.
            (): unknown =>
              signal.aborted ||
              loadPixel(base + ((paths && paths[TRACKER_ROUTES.pixel]) || TRACKER_ROUTES.pixel) + '?' + body, signal)
                .then(() => learnIds(config, base, signal))
                .then(() => delivered('pixel', { image: true })),
          );
    });
    if (kind == 'pageview') {
      lastPageview = key;
      lastResult = result;
    }
    return result;
  };

  const core: TrackerCore = {
    pageview: (params, callbacks) => hit('pageview', location.href, params, callbacks),
    event: (category, action, label, value, params, callbacks) =>
      hit('event', eventUrl(location.href, category, action, label, value), params, callbacks),
    // The proxy validates the input: without an email it answers 400, which settles as an error.
    identify: (input, callbacks) =>
      send('identify', callbacks, (finish, signal, leaving) =>
        // Not CORS-simple (JSON), so nothing to hand over at pagehide: it goes when the gate opens.
        leaving ||
        postJson(config._url + ((READS_PATHS && config._paths?.[TRACKER_ROUTES.identify]) || TRACKER_ROUTES.identify), JSON.stringify(Object(input)), signal).then(() =>
          finish({ ok: true, via: 'post', event: 'identify', params: { email: Object(input).email } }),
        ),
      ),
  };
  if (consent) core.consent = consent._decide;
  return core;
};
