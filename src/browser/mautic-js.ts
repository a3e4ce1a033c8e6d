/**
 * What Mautic's script does for a site besides tracking: the `MauticJS` global (the one global we
 * add besides the snippet's own; dwc.ts adds the two Mautic's form script reads, only when content
 * brings a form), dynamic web content and the campaign actions of every answer.
 *
 * Everything hangs off the `mauticPageEventDelivered` event the tracker dispatches, so the tracker
 * needs no hook. Unlike Mautic's script, which asks for slots before the first hit (so a first-time
 * visitor, not a contact yet, gets the fallback), slots are asked once the first hit was delivered,
 * with its parameters and the device id it taught; slots added later (single-page apps) are asked
 * for when they appear. A page that never sends a hit asks for none, like Mautic 7.2's script before
 * consent (docs/protocol.md §12).
 */
import { DELIVERED_EVENT } from '../protocol/wire.js';
import { runCampaignEvents } from './campaign-events.js';
import { createSlotFiller } from './dwc.js';
import { learnIds, storeIds } from './identity.js';
import type { Delivered, HitParams, TrackerConfig } from './types.js';

/** `window.MauticJS`: the part of Mautic's API that site code and Mautic's scripts use. */
export interface MauticJSApi {
  /** Calls `callback` once the page has loaded (`document.readyState` is `complete`), at once if it has. */
  documentReady(callback: () => void): void;
  /** Calls `callback(detail)` after the first delivered hit of the page, at once if there was one. */
  onFirstEventDelivery(callback: (detail: Delivered) => void): void;
  /** Learns the visitor's ids from Mautic (`GET /mtc`) when none is stored yet. */
  getTrackedContact(): void;
  /** Stores the valid ids of `{ id, device_id }` (a `/mtc/event`, `/mtc` or `/dwc` answer). */
  setTrackedContact(response: unknown): void;
}

/**
 * Installs `window.MauticJS` and the delivery listener, unless a `MauticJS` is there already
 * (Mautic's own script, or another tracker of ours, does the same work).
 *
 * `analytics` also hands Facebook Pixel and Google Analytics entries to the page (`forwardAnalytics`).
 *
 * @example installMauticJS(config, forwardAnalytics); // before the first send
 */
export const installMauticJS = (config: TrackerConfig, analytics?: (answer: Record<string, unknown>) => void): void => {
  const page = window as unknown as { MauticJS?: MauticJSApi };
  if (page.MauticJS) return;
  const fill = createSlotFiller(config);
  const waiting: Array<(detail: Delivered) => void> = [];
  let first: Delivered | undefined;
  let params: HitParams | undefined;
  /** Runs page code: whatever it throws (or a callback that is no function) stays here. */
  const call = (callback: unknown, arg?: unknown): void => {
    try {
      (callback as (arg: unknown) => void)(arg);
    } catch {
      // The page's own error; Mautic's script would have let it escape.
    }
  };

  document.addEventListener(DELIVERED_EVENT, (event) => {
    try {
      const detail = (event as CustomEvent<Delivered>).detail;
      // Slots are asked with the latest delivered hit's parameters (and the device id of now).
      params = detail.params;
      if (!first) {
        first = detail;
        // Nothing is queued from now on: onFirstEventDelivery calls at once.
        waiting.forEach((callback) => call(callback, detail));
        fill(params);
        // Mutation records come in one batch per task, and each asks only for new slots.
        new MutationObserver(() => fill(params)).observe(document, { childList: true, subtree: true });
      }
      // Last: a hostile entry or a throwing page fbq/gtag ends only the campaign actions.
      runCampaignEvents(config, (detail.response as { events?: unknown } | undefined)?.events, analytics);
    } catch {
      // A page that dispatches this event itself with an odd detail.
    }
  });

  page.MauticJS = {
    documentReady: (callback) => (document.readyState == 'complete' ? call(callback) : addEventListener('load', () => call(callback))),
    onFirstEventDelivery: (callback) => void (first ? call(callback, first) : waiting.push(callback)),
    getTrackedContact: () => void learnIds(config, config._url),
    setTrackedContact: storeIds,
  };
};
