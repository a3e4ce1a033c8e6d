/**
 * Campaign actions that Mautic puts in a `/mtc/event` answer (docs/protocol.md §4, `events`), done
 * as Mautic's script does them: a focus item loads its script (from Mautic's origin only, where
 * Mautic's script loads any URL); Facebook Pixel and Google Analytics entries go to the page's own
 * `fbq` and `gtag`, and only when the page has them.
 *
 * Mautic's script hands Google Analytics entries to Universal Analytics' `ga`, which Google stopped
 * processing in 2023 (so they are lost even where `ga` is still defined); `gtag` reaches GA4.
 */
import { insertMauticScript } from './mautic-script.js';
import type { TrackerConfig } from './types.js';

type Entry = Record<string, unknown>;
type PageFunction = ((...args: unknown[]) => void) | undefined;

/** Runs `run` for each entry of `list` when it is an array (a null entry throws). */
const each = (list: unknown, run: (entry: Entry) => unknown): unknown => Array.isArray(list) && list.forEach(run);

/**
 * Runs the actions of an answer's `events` (`[]` or an object of lists). An entry without
 * `id` (focus item) or `action` (the other two) is skipped, as Mautic's script does; one without a
 * `label` is still passed on, where Mautic's script drops it. Throws
 * on a hostile entry or a page `fbq`/`gtag` that throws (the caller catches): focus items go
 * first, so such a page function cannot keep them from showing.
 *
 * @example runCampaignEvents(config, { focus_item: [{ id: 1, js: 'https://m.example.com/focus/1.js' }] })
 */
export const runCampaignEvents = (config: TrackerConfig, events: unknown, analytics?: (events: Entry) => void): void => {
  const answer = Object(events) as Entry;
  each(answer.focus_item, ({ id, js }) => id != null && insertMauticScript(config, js));
  analytics?.(answer);
};

/**
 * Facebook Pixel and Google Analytics entries to the page's `fbq`/`gtag`. The npm entry passes it
 * to `installMauticJS`; dist/mtc.js leaves it out, for its size budget (the README says so).
 */
export const forwardAnalytics = (answer: Entry): void => {
  const page = window as unknown as Record<'fbq' | 'gtag' | 'ga', PageFunction>;
  each(answer.facebook_pixel, (e) => e.action != null && page.fbq?.('trackCustom', e.action, { eventLabel: e.label }));
  // GA4's gtag when the page has it; else Universal Analytics' ga, called as Mautic's script calls it.
  each(
    answer.google_analytics,
    (e) =>
      e.action != null &&
      (page.gtag
        ? page.gtag('event', e.action, { event_category: e.category, event_label: e.label })
        : page.ga?.('send', { hitType: 'event', eventCategory: e.category, eventAction: e.action, eventLabel: e.label })),
  );
};
