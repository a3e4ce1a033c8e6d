/**
 * Consent, Do Not Track and Global Privacy Control (docs/protocol.md §14, README "Consent"):
 * whether this page may send hits and keep ids, and the sends held in memory until the visitor
 * decides. In the npm entry and dist/mtc.durable.js; dist/mtc.js is built with
 * consent.script-tag.ts in its place (rollup.config.mjs): its size budget has no room.
 *
 * - `mt('config', { consent: 'required' })` (npm: `createTracker({ consent: 'required' })`)
 *   before the first send: nothing is sent and nothing is written until `mt('consent', 'grant')`.
 *   Sends made meanwhile are held (at most `HELD_SEND_LIMIT`) with what they read at the call
 *   (URL, title, parameters) and go out in call order after the grant, through the tracker's
 *   first-send gate, so a new visitor still becomes one contact.
 * - `mt('consent', 'deny')` (with or without consent mode): held sends are dropped, later ones
 *   refused, and what this script keeps is removed: the ids (`TRACKING_KEYS`, in localStorage and
 *   as first-party cookies), every send the durable queue kept and its delivery lease.
 * - `navigator.globalPrivacyControl === true` or `navigator.doNotTrack == '1'`: every send is
 *   refused and nothing is written, whatever the consent, unless the site turned that signal off
 *   (`honorGpc: false`, `honorDnt: false`).
 *
 * Every send still settles exactly once: a refused send (denied, a privacy signal, or over the
 * limit) at once with `onerror(Error('consent'))`; a held send like any other, within `timeout`
 * ms of its call: delivered when the grant came in time, else `onerror(Error('timeout'))` (or
 * `Error('consent')` when the deny came first). A held send whose deadline passed stays held: a
 * later grant still sends it (its delivery shows as the `mauticPageEventDelivered` event, its
 * callbacks are not called again), a deny drops it.
 *
 * The durable queue uses the same state: its storage (queue-storage.ts) is there only when
 * `mayStore()`.
 */
import { QUEUE_KEY_PREFIX, QUEUE_LEASE_KEY, STORAGE_KEYS } from '../protocol/wire.js';
import type { SendResult, TrackerConfig } from './types.js';

/** The most sends held while the visitor has not decided; later ones are refused at once. */
export const HELD_SEND_LIMIT = 20;

/** The ids this script writes, in localStorage and as first-party cookies (`path=/`); a deny removes them. */
export const TRACKING_KEYS: string[] = [STORAGE_KEYS.contactId, STORAGE_KEYS.deviceId];

/** A consent decision, from `mt('consent', …)` or `tracker.consent(…)`. */
export type ConsentDecision = 'grant' | 'deny';

/** One tracker's consent state (tracker.ts): holds its sends, takes the decision. */
export interface Consent {
  /**
   * The outcome of a send that may not go now (held until the decision, or refused), or undefined
   * when it may go. `resend` sends it again (without callbacks: they are settled here) once granted.
   */
  _hold(callbacks: unknown, resend: () => Promise<SendResult>): Promise<SendResult> | undefined;
  /** `'grant'` or `'deny'`; anything else is ignored. */
  _decide(decision: unknown): void;
}

type Settle = (callbacks: unknown, result: SendResult) => SendResult;

/** One check per tracker on the page: ids may be written only when every tracker may track. */
const checks: Array<() => boolean> = [];

/**
 * Whether anything may be written to the visitor's storage now (identity.ts, queue-storage.ts).
 * Typed as possibly absent: consent.script-tag.ts has none, and the callers' checks fold away.
 */
export const mayStore: (() => boolean) | undefined = () => checks.every((check) => check());

/** A privacy signal the site honours, or a deny. */
const refused = (config: TrackerConfig): boolean =>
  config._consent == 'deny' ||
  (!config._ignoreGpc && (navigator as { globalPrivacyControl?: unknown }).globalPrivacyControl === true) ||
  // Loose on purpose, as for the `do_not_track` parameter: browsers report '1', old IE reported 1.
  (!config._ignoreDnt && (navigator.doNotTrack as unknown) == 1);

/** Sends go out now: no signal, no deny, and consent granted or not asked for. */
export const mayTrack = (config: TrackerConfig): boolean => !refused(config) && config._consent != 'required';

/**
 * The consent entries of `mt('config', …)` / `createTracker` options (config.ts): `consent:
 * 'required'` (any other value is ignored; it does not undo a decision already made), `honorGpc:
 * false` / `honorDnt: false` stop honouring that signal.
 */
export const consentOptions: ((config: TrackerConfig, input: Record<string, unknown>) => void) | undefined = (config, { consent, honorGpc, honorDnt }) => {
  if (consent == 'required') config._consent ||= consent as string;
  if (honorGpc != null) config._ignoreGpc = !honorGpc;
  if (honorDnt != null) config._ignoreDnt = !honorDnt;
};

/** Removes what this script keeps: the ids (cookie and localStorage), the queue's sends and lease. */
const forget = (): void => {
  try {
    TRACKING_KEYS.forEach((key) => {
      document.cookie = key + '=;path=/;max-age=0';
      localStorage.removeItem(key);
    });
    // Backwards: removing a key shifts the ones after it.
    for (let index = localStorage.length; index--; ) {
      const key = localStorage.key(index);
      if (key?.startsWith(QUEUE_KEY_PREFIX) || key == QUEUE_LEASE_KEY) localStorage.removeItem(key!);
    }
  } catch {
    // Storage blocked: nothing was kept there either.
  }
};

/**
 * The consent state of the tracker of `config`; `settle` calls the page's callbacks (the
 * tracker's own).
 *
 * @example const consent = createConsent(config, settle);
 * const held = consent._hold(callbacks, () => send(kind, 0, deliver)); // undefined: send now
 * consent._decide('grant'); // held sends go out, in call order
 */
export const createConsent: ((config: TrackerConfig, settle: Settle) => Consent) | undefined = (config, settle) => {
  const held: Array<(go: boolean) => unknown> = [];
  checks.push(() => mayTrack(config));
  return {
    _hold: (callbacks, resend) => {
      if (mayTrack(config)) return;
      let resolve!: (result: SendResult) => void;
      const result = new Promise<SendResult>((done) => (resolve = done));
      const fail = (reason: string) => resolve({ ok: false, error: Error(reason) });
      // A promise settles once: the callbacks see whichever outcome came first.
      result.then((outcome) => settle(callbacks, outcome));
      if (refused(config) || held.length >= HELD_SEND_LIMIT) fail('consent');
      else {
        setTimeout(fail, config._timeout, 'timeout');
        held.push((go) => (go ? resend().then(resolve) : fail('consent')));
      }
      return result;
    },
    _decide: (decision) => {
      if (decision == 'grant' || decision == 'deny') {
        config._consent = decision as ConsentDecision;
        if (decision == 'deny') forget();
        // In call order: the first goes at once, the others wait for it (the tracker's gate).
        held.splice(0).forEach((run) => run(mayTrack(config)));
      }
    },
  };
};

