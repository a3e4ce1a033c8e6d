/**
 * What a hit says about the page (docs/protocol.md §3): its parameters, the page's defaults with the
 * page's own merged over them (the one place a hit's parameters are merged), and the URL of a
 * custom event.
 */
import { mergeParams } from './encode.js';
import type { HitParams } from './types.js';

/**
 * Mautic's rule: it tests `Win`, `Mac`, `X11`, `Linux` in that order and the last match wins.
 *
 * @example platformOf('5.0 (X11; Linux x86_64)') // → 'Linux'
 */
export const platformOf = (appVersion: string): string =>
  // Testing in reverse order and taking the first match is the same as Mautic's last match wins.
  /Linux/.test(appVersion)
    ? 'Linux'
    : /X11/.test(appVersion)
      ? 'UNIX'
      : /Mac/.test(appVersion)
        ? 'MacOS'
        : /Win/.test(appVersion)
          ? 'Windows'
          : 'Unknown OS';

/** Mautic keeps only the host[:port] of the referrer: the third `/`-separated segment. */
export const referrerHost = (referrer: string): string => referrer.split('/')[2] || '';

/**
 * A hit's parameters: the defaults in §3's order (`timezone` and `mautic_device_id` only when
 * known), then `custom` (already through `mergeParams`) over them, so a custom `page_title` takes
 * the default's place and other keys follow the defaults.
 *
 * @example pageParams(0, location.href, document.title, readDeviceId(), mergeParams({}, { email }))
 */
export const pageParams = (counter: number, pageUrl: string, title: string, deviceId?: string, custom?: HitParams): HitParams => {
  const nav = navigator;
  const language = nav.language;
  return mergeParams(
    mergeParams({}, {
      page_title: title,
      page_language: language,
      preferred_locale: language.replace('-', '_'),
      page_referrer: referrerHost(document.referrer),
      page_url: pageUrl,
      counter,
      timezone_offset: new Date().getTimezoneOffset(),
      resolution: screen.width + 'x' + screen.height,
      platform: platformOf(nav.appVersion),
      // Loose equality on purpose: browsers report '1', IE reported 1.
      do_not_track: (nav.doNotTrack as unknown) == 1,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      mautic_device_id: deviceId,
    }),
    custom,
  );
};

/**
 * A custom event's `page_url`: the current URL with `mt_category`, `mt_action`, `mt_label`,
 * `mt_value` (`EVENT_URL_KEYS` of the wire contract) appended to its query, empty ones omitted.
 * Mautic merges page_url's query into the stored hit, so segment and campaign URL filters such as
 * `*mt_action=signup*` match these hits without a plugin.
 *
 * The URL is re-serialized by `URLSearchParams` (an existing `%20` in the page's query becomes
 * `+`); Mautic decodes both the same way.
 *
 * @example eventUrl('https://s.example/p?a=1#top', 'Video', 'play') // → 'https://s.example/p?a=1&mt_category=Video&mt_action=play#top'
 */
export const eventUrl = (href: string, category?: unknown, action?: unknown, label?: unknown, value?: unknown): string => {
  const url = new URL(href);
  const query = mergeParams({}, { mt_category: category, mt_action: action, mt_label: label, mt_value: value });
  for (const key in query) if (query[key]) url.searchParams.append(key, query[key]!);
  return url.href;
};
