/**
 * Loading code that Mautic serves (focus items, its form script): only from the configured
 * Mautic's own origin, each URL once. Anything else is ignored, so neither a campaign answer nor
 * dynamic content can make the page run code from another host.
 */
import type { TrackerConfig } from './types.js';

/** URLs already inserted: a focus item that a second answer names again would show twice. */
const inserted = new Set<string>();

/**
 * The origin of `url` (the configured base by default); a relative base (`/mt`, our proxy on the
 * site) is resolved against the page, so it means the page's own origin. Throws on a non-URL.
 *
 * @example originOf({ _url: '/mt' } as TrackerConfig) // → 'https://www.example.com' on that site
 */
export const originOf = (config: TrackerConfig, url = config._url): string => new URL(url, location.href).origin;

/**
 * Appends `<script src=url>` (async, as every inserted script) to the head when `url` is on
 * Mautic's origin and was not inserted before; `onload` runs once it loaded. A non-string `url`
 * is read as the string it converts to (and so, from an answer, a relative URL on the page).
 *
 * @example insertMauticScript(config, 'https://m.example.com/focus/3.js')
 */
export const insertMauticScript = (config: TrackerConfig, url: unknown, onload?: () => void): void => {
  // originOf throws on a non-URL: the caller's try (every caller has one) ends it there.
  if (!inserted.has(url as string) && originOf(config, url as string) == originOf(config)) {
    inserted.add(url as string);
    const script = document.createElement('script');
    script.src = url as string;
    script.onload = onload!;
    document.head.append(script);
  }
};
