/**
 * The tracker core shared by the script tag and the npm entry: ordering, duplicate suppression,
 * delivery with fallback, the delivered event, and settling every send exactly once.
 *
 * Only called in a browser (the npm entry checks first).
 */
import { DELIVERED_EVENT, MAUTIC_PATHS } from '../protocol/wire.js';
import { encodeParams, mergeParams } from './encode.js';
import { eventUrl, pageParams } from './hit.js';
import { readDeviceId, storeIds } from './identity.js';
import { beaconHit, loadPixel, lookupIds, postHit, postJson } from './transport.js';
import type { HitParams, SendKind, SendResult, TrackerConfig } from './types.js';

type Finish = (result: SendResult) => void;
/** Puts a send on the wire once the ordering gate opens; its promise ends the send's chain. */
type Deliver = (finish: Finish, signal: AbortSignal) => unknown;

/** The core API; arguments are whatever the page passed (validated, never trusted). */
export interface TrackerCore {
  // `_` names are mangled in dist/mtc.js (rollup.config.mjs): this object never leaves the SDK.
  _pageview(params?: unknown, callbacks?: unknown): Promise<SendResult>;
  _event(category?: unknown, action?: unknown, label?: unknown, value?: unknown, params?: unknown, callbacks?: unknown): Promise<SendResult>;
  _identify(input?: unknown, callbacks?: unknown): Promise<SendResult>;
}

/** Our reasons are strings; a rejection's reason (TypeError, Event, nothing) becomes a message. */
const failure = (reason?: unknown): SendResult => ({ ok: false, error: Error((reason as string) || 'failed') });

const delivered = (event: SendKind, via: 'post' | 'pixel' | 'beacon', params: HitParams, more: object): SendResult =>
  ({ ok: true, via, event, params, ...more }) as SendResult;

/**
 * Creates the core. `config` is read at each call, so `mt('config', …)` affects later sends.
 *
 * Ordering: the first send of the page load goes at once; later ones wait until its chain ended
 * (delivered and ids stored, or failed, or timed out), so a new visitor becomes one contact.
 * Deadline: every send settles within `config.timeout` ms of the call, whatever the server does;
 * a send that timed out before it was on the wire is not sent any more.
 *
 * @example const core = createCore({ url: 'https://m.example.com', timeout: 5000, debug: false });
 * core._pageview({ email: 'jane@example.com' }, { onload: () => location.assign('/thanks') });
 */
export const createCore = (config: TrackerConfig): TrackerCore => {
  let counter = 0;
  let gate: Promise<unknown> | undefined;
  let lastPageview: string | undefined;
  let lastResult: Promise<SendResult> | undefined;
  /** Calls the page's callback for `result`; a throwing or odd callback never breaks anything. */
  const settle = (callbacks: unknown, result: SendResult): SendResult => {
    try {
      const fn = callbacks && (callbacks as Record<string, unknown>)[result.ok ? 'onload' : 'onerror'];
      if (typeof fn == 'function') fn(result.ok ? result : result.error);
    } catch (error) {
      if (config.debug) console.error(error);
    }
    return result;
  };

  /**
   * Runs one send: `deliver` once the gate opens, a deadline of `config.timeout` ms from now
   * (which settles it and aborts its requests), and `leave` at pagehide while it still waits.
   * A `deliver` that throws a string fails the send with that message. The send's chain ends when `deliver`'s
   * promise does (after the id lookup on the pixel path), at the deadline at the latest.
   */
  const send = (
    kind: SendKind,
    callbacks: unknown,
    deliver: Deliver,
    leave?: (finish: Finish) => void,
  ): Promise<SendResult> => {
    let done: unknown;
    let finish!: Finish;
    const controller = new AbortController();
    // A promise settles once: later calls of `finish` (a late answer after the deadline) are no-ops.
    const result = new Promise<SendResult>((resolve) => (finish = resolve));
    result.then((outcome) => {
      done = 1;
      // The delivered event is Mautic's (§5): for hits only, not for our proxy's identify.
      if (outcome.ok && kind != 'identify') document.dispatchEvent(new CustomEvent(DELIVERED_EVENT, { detail: outcome }));
      settle(callbacks, outcome);
    });
    const timer = setTimeout(() => {
      finish(failure('timeout'));
      controller.abort();
    }, config.timeout);
    const onLeave = () => done || leave!(finish);
    // Only a send that waits can be caught by pagehide before it is on the wire.
    if (gate && leave) addEventListener('pagehide', onLeave);
    // Every delivery path settles before its promise ends, so this only settles throws and
    // rejections (with their reason); it also ends the deadline.
    const end = (reason?: unknown) => {
      finish(failure(reason));
      clearTimeout(timer);
    };
    const chain = Promise.resolve(gate)
      .then(() => {
        removeEventListener('pagehide', onLeave);
        return done || deliver(finish, controller.signal);
      })
      .then(end, end);
    gate = gate || chain;
    return result;
  };

  /** A hit on `/mtc/event`: page URL and title read now, the rest when it goes on the wire. */
  const hit = (kind: 'pageview' | 'event', pageUrl: () => string, custom: unknown, callbacks: unknown): Promise<SendResult> => {
    try {
      const base = config.url;
      const url = pageUrl();
      const title = document.title;
      const extra = mergeParams({}, custom);
      const key = url + title + encodeParams(extra);
      // A second snippet or a double call: settle with the first one's outcome, send nothing.
      if (kind == 'pageview' && key == lastPageview && lastResult) return lastResult.then((result) => settle(callbacks, result));
      const count = counter++;
      const params = (): HitParams => mergeParams(pageParams(count, url, title, readDeviceId()), extra);
      const result = send(
        kind,
        callbacks,
        (finish, signal) => {
              const sent = params();
              const body = encodeParams(sent);
              return postHit(base + MAUTIC_PATHS.event, body, signal).then(
                (response) => {
                  storeIds(response);
                  finish(delivered(kind, 'post', sent, { response }));
                },
                // Any POST failure: the pixel (Mautic records the same hit), then ask for the ids.
                (): unknown =>
                  signal.aborted ||
                  loadPixel(base + MAUTIC_PATHS.pixel + '?' + body, signal).then(() => {
                    finish(delivered(kind, 'pixel', sent, { image: true }));
                    const device = readDeviceId();
                    // A failed lookup ends the chain with a rejection: the send is settled already.
                    return lookupIds(base + MAUTIC_PATHS.contactIds + (device ? '?mautic_device_id=' + device : ''), signal).then(
                      storeIds,
                    );
                  }),
              );
            },
        (finish) => {
          const sent = params();
          finish(
            beaconHit(base + MAUTIC_PATHS.event, encodeParams(sent))
              ? delivered(kind, 'beacon', sent, { beacon: true })
              : failure('beacon'),
          );
        },
      );
      if (kind == 'pageview') {
        lastPageview = key;
        lastResult = result;
      }
      return result;
    } catch {
      return send(kind, callbacks, () => {
        throw 'bad input';
      });
    }
  };

  return {
    _pageview: (params, callbacks) => hit('pageview', () => location.href, params, callbacks),
    _event: (category, action, label, value, params, callbacks) =>
      hit('event', () => eventUrl(location.href, [category, action, label, value]), params, callbacks),
    _identify: (input, callbacks) => {
      const { email, fields, token } = Object(input) as Record<string, unknown>;
      return send(
        'identify',
        callbacks,
        typeof email == 'string' && email
          ? (finish, signal) =>
              postJson(config.url + '/identify', JSON.stringify({ email, fields, token }), signal).then(() =>
                finish(delivered('identify', 'post', { email }, {})),
              )
          : () => {
              throw 'no email';
            },
      );
    },
  };
};
