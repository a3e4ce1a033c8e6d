/**
 * npm entry: `import { createTracker } from 'mautic-tracker'`.
 *
 * Importing touches no `window` (safe under server-side rendering). On the server, `createTracker`
 * returns a tracker whose sends resolve `{ ok: false, error }` and whose `enableAutoPageviews`
 * does nothing.
 */
import { fillWithoutIds } from './anonymous-content.js';
import { applyConfig, DEFAULT_TIMEOUT } from './config.js';
import { forwardAnalytics } from './campaign-events.js';
import { installMauticJS } from './mautic-js.js';
import { watchRoutes } from './spa.js';
import { pageState } from './page-state.js';
import { TRACKER_ROUTES, type SendRouteName } from '../protocol/routes.js';
import type { ConsentDecision } from './consent.js';
import type { IdentifyInput, QueueBoundsOption, SendResult } from './types.js';

export type { Delivered, DeliveredDetail, HitParams, IdentifyInput, QueueBoundsOption, QueuedError, SendCallbacks, SendKind, SendResult } from './types.js';
export type { ContactIdsResponse, TrackingRefusal, TrackingResponse } from '../protocol/wire.js';
export type { SendRouteName } from '../protocol/routes.js';
export type { MauticJSApi } from './mautic-js.js';
export type { ConsentDecision } from './consent.js';
export { HELD_SEND_LIMIT } from './consent.js';

/** Options of `createTracker`: the Mautic (or proxy) base URL is required. */
export interface TrackerOptions {
  /** Mautic or proxy base URL, e.g. `https://mautic.example.com`, or `/mt` for our proxy on the same site. */
  url: string;
  /** Milliseconds after which a send settles with an error at the latest. Default 5000. */
  timeout?: number;
  /** Log callback errors to the console. */
  debug?: boolean;
  /**
   * The proxy's renamed routes, as in its `paths` option, e.g. `{ event: '/e', pixel: '/p.gif' }`
   * (relative to `url`; a value that is not a path like `/e` is ignored). Default: the routes of
   * Mautic and of the proxy unchanged (`/mtc/event`, `/mtracking.gif`, `/mtc`, `/identify`).
   */
  paths?: Partial<Record<SendRouteName, string>>;
  /**
   * What Mautic's script does for a site besides tracking, as `dist/mtc.js` does it: dynamic web
   * content slots, campaign actions of the answers (focus items, Facebook Pixel, Google Analytics)
   * and the `window.MauticJS` global. Default true; `false` leaves all three out (the first tracker
   * of a page that has them provides them for the page).
   */
  mauticJS?: boolean;
  /**
   * The durable send queue (README "Durable queue"): a pageview or event that could not be
   * delivered is kept in this site's localStorage and delivered later, in call order, by one tab;
   * its promise resolves `{ ok: false, queued: true, error }` when it was kept, and
   * `mauticQueuedSendDelivered` is dispatched on `document` when it is delivered. Default on, with
   * 50 sends, 64 KiB and 24 hours as bounds (oldest dropped first); pass bounds to change them, or
   * `false` for none (a failed send is then lost, as with Mautic's script).
   */
  durable?: boolean | Partial<QueueBoundsOption>;
  /**
   * `url` is our proxy (mautic-tracker/server), which remembers hit ids: every hit then carries
   * `mt_hit_id` and any failed send (a 5xx, a timeout) may be retried without counting twice.
   * Default false: straight to Mautic, which has no such memory, only sends that certainly never
   * reached it (a network error before any answer, the browser offline) are kept.
   */
  proxy?: boolean;
  /**
   * `'required'`: nothing is sent and nothing is written (no cookie, no localStorage, nothing in
   * the durable queue) until `tracker.consent('grant')`. Sends made before are held in memory (at
   * most `HELD_SEND_LIMIT`) and go out in call order after the grant; `tracker.consent('deny')`
   * drops them. A held send settles like any other within `timeout` (`{ ok: false, error:
   * Error('timeout') }` when the grant did not come in time; it is still sent after a later
   * grant); a refused one at once with `Error('consent')`. Default: not required. Not in
   * `dist/mtc.js` (its size budget); `dist/mtc.durable.js` has it.
   *
   * @example
   * const tracker = createTracker({ url: '/mt', consent: 'required' });
   * tracker.pageview();                 // held
   * cmp.onAccept(() => tracker.consent('grant'));  // the pageview goes out now
   */
  consent?: 'required';
  /** Honour Global Privacy Control (`navigator.globalPrivacyControl === true`): no hit, nothing stored. Default true. */
  honorGpc?: boolean;
  /** Honour Do Not Track (`navigator.doNotTrack == '1'`): no hit, nothing stored. Default true. */
  honorDnt?: boolean;
  /**
   * With `mauticJS`: while this tracker may not track (no consent yet, a deny, a privacy signal),
   * ask for the page's dynamic web content slots once without any identifier (no device id, no
   * cookies, nothing stored), so Mautic's content for unknown visitors shows before consent. Default
   * false: slots keep their fallback until the first delivered hit. Not in `dist/mtc.js`.
   *
   * @example createTracker({ url: 'https://mautic.example.com', consent: 'required', contentBeforeConsent: true });
   */
  contentBeforeConsent?: boolean;
}

/** A tracker bound to one Mautic base URL. Its promises never reject. */
export interface Tracker {
  /** Records a page hit for the current page; `params` are merged over the defaults (docs/protocol.md §3). */
  pageview(params?: Record<string, unknown>): Promise<SendResult>;
  /**
   * Records a custom event: a hit whose `page_url` carries `mt_category`, `mt_action`,
   * `mt_label`, `mt_value` in its query, so Mautic segment and campaign URL filters match it.
   */
  event(category: string, action: string, label?: string, value?: string | number, params?: Record<string, unknown>): Promise<SendResult>;
  /** `POST {url}/identify` as JSON: needs our proxy (mautic-tracker/server) at `url`. */
  identify(input: IdentifyInput): Promise<SendResult>;
  /** Sends a pageview per distinct URL on pushState/replaceState/popstate; returns a stop function. */
  enableAutoPageviews(): () => void;
  /**
   * The visitor's decision, in call order with the sends. `'grant'`: held sends go out, later
   * ones go at once. `'deny'`: held sends settle with `Error('consent')`, later ones are refused,
   * and what this SDK stored is removed (`mtc_id`, `mautic_device_id` in localStorage and
   * cookies, every send the durable queue kept and its lease). Works with or without `consent:
   * 'required'` (a deny is an opt-out); a privacy signal the tracker honours still wins over a
   * grant.
   *
   * @example
   * window.addEventListener('CookiebotOnConsentReady', () =>
   *   tracker.consent(Cookiebot.consent.statistics ? 'grant' : 'deny'));
   */
  consent(decision: ConsentDecision): void;
}

const SEND_ROUTES: readonly SendRouteName[] = ['event', 'pixel', 'contactIds', 'identify'];
/** A route path as the proxy accepts one: `/e`, `/t/p.gif`. */
const ROUTE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

/** `paths` keyed by the default routes the core sends to (`{ '/mtc/event': '/e' }`); bad entries ignored. */
const renamedRoutes = (paths: unknown, debug: boolean | undefined): Record<string, string> => {
  const renamed: Record<string, string> = {};
  for (const name of SEND_ROUTES) {
    try {
      const path = (Object(paths) as Record<string, unknown>)[name];
      if (typeof path == 'string' && ROUTE_PATH.test(path) && !/(^|\/)\.\.?(\/|$)/.test(path)) renamed[TRACKER_ROUTES[name]] = path;
      else if (path !== undefined && debug) console.warn('mt: ignored paths.' + name, path);
    } catch {
      // A throwing getter: that route keeps its default.
    }
  }
  return renamed;
};

/** The `durable` option as the core reads it: false, or the valid bounds given (positive, finite). */
const durableBounds = (option: unknown): Partial<QueueBoundsOption> | false => {
  if (option === false) return false;
  const bounds: Partial<QueueBoundsOption> = {};
  for (const name of ['maxSends', 'maxBytes', 'maxAgeMs'] as const) {
    try {
      const value = (Object(option) as Record<string, unknown>)[name];
      if (typeof value == 'number' && value > 0 && value < 2e9) bounds[name] = value;
    } catch {
      // A throwing getter: that bound keeps its default.
    }
  }
  return bounds;
};

/** A tracker that cannot send: every send resolves `{ ok: false, error }` with `reason`. */
const failingTracker = (reason: string): Tracker => {
  const unavailable = (): Promise<SendResult> => Promise.resolve({ ok: false, error: Error('mautic-tracker: ' + reason) });
  return { pageview: unavailable, event: unavailable, identify: unavailable, enableAutoPageviews: () => () => {}, consent: () => {} };
};

/**
 * Creates a tracker. Trackers for the same `url` on one page share one state (first-send gate,
 * counter, duplicate suppression), so calling this twice (React StrictMode, HMR, two components,
 * two bundles, the script tag beside the npm module) never makes two contacts or two pageviews; the first
 * tracker's `timeout`, `debug`, `consent`, `honorGpc` and `honorDnt` apply to all of them.
 *
 * @example
 * import { createTracker } from 'mautic-tracker';
 * const tracker = createTracker({ url: 'https://mautic.example.com' });
 * await tracker.pageview({ email: 'jane@example.com', tags: ['trial'] });
 * tracker.event('Video', 'play', 'intro', 30);
 * const stop = tracker.enableAutoPageviews();
 */
export function createTracker(options: TrackerOptions): Tracker {
  if (typeof window == 'undefined' || typeof document == 'undefined' || typeof fetch != 'function') {
    return failingTracker('not in a browser');
  }
  const config = applyConfig({ _url: '', _timeout: DEFAULT_TIMEOUT, _debug: false }, options);
  // Bundlers minify this entry, so it can afford what the script tag cannot: trailing slashes.
  config._url = config._url.replace(/\/+$/, '');
  if (!config._url) return failingTracker('no url');
  config._paths = renamedRoutes(options.paths, config._debug);
  config._proxy = options.proxy === true;
  config._durable = durableBounds(options.durable);
  // Shared with every other tracker of this page for the same URL (StrictMode, HMR, two bundles).
  const { core, inOrder } = pageState(config);
  if (options.mauticJS !== false) {
    installMauticJS(config, forwardAnalytics);
    if (options.contentBeforeConsent) fillWithoutIds(config);
  }
  // Hostile input (a throwing getter in params) must still resolve, never throw or reject.
  const safely = (send: () => Promise<SendResult>): Promise<SendResult> => {
    try {
      return send();
    } catch (error) {
      return Promise.resolve({ ok: false, error: error instanceof Error ? error : Error('mautic-tracker: bad input') });
    }
  };
  return {
    // A pageview waits for the page to render, so it reads the title the page sets in an effect.
    pageview: (params) => inOrder(() => safely(() => core.pageview(params)), true),
    event: (category, action, label, value, params) => inOrder(() => safely(() => core.event(category, action, label, value, params))),
    identify: (input) => inOrder(() => safely(() => core.identify(input))),
    // Route pageviews come once the title settled (spa.ts).
    enableAutoPageviews: () => watchRoutes(() => void inOrder(() => safely(() => core.pageview()))),
    // A core dist/mtc.js made (the script tag on the same page, first) has no consent mode.
    consent: (decision) => void inOrder(() => core.consent?.(decision)),
  };
}
