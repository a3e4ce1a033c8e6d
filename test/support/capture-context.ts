/**
 * The page context of docs/protocol.md §3's capture, reproduced in Chromium so our SDK's bytes can be
 * compared with the bytes Mautic's own script sent:
 * - page `http://localhost:8098/p0?utm_source=news&utm_campaign=spring` (exact URL, served by the
 *   site server acting as the context's proxy) while the script and the stand-in stay on mautic.test;
 * - title `Pricing & Plans`, locale en-US, time zone Europe/Berlin, screen 1920×1080;
 * - a winter date (the capture has `timezone_offset=-60`, i.e. CET, not CEST), with timers running;
 * - platform: headless Chromium on Linux reports `navigator.appVersion` "5.0 (X11; Linux x86_64) …",
 *   which §3's rule maps to `Linux` (X11 → UNIX, then Linux wins). Not faked; `openCaptureContext`
 *   checks it and fails loudly if another OS ever runs the suite.
 */
import type { Page } from 'playwright';
import type { E2EEnv, OpenedPage } from './e2e-env.js';
import { sitePage } from './site-server.js';

export const CAPTURE_PAGE_URL = 'http://localhost:8098/p0?utm_source=news&utm_campaign=spring';
export const CAPTURE_TITLE = 'Pricing & Plans';
/** Any date in CET (winter) gives getTimezoneOffset() = -60 in Europe/Berlin. */
export const CAPTURE_WINTER_DATE = new Date('2026-01-15T10:00:00Z');

/** docs/protocol.md §3's captured body, verbatim. */
export const CAPTURED_BODY =
  'page_title=Pricing%20%26%20Plans&page_language=en-US&preferred_locale=en_US&page_referrer=&page_url=http%3A%2F%2Flocalhost%3A8098%2Fp0%3Futm_source%3Dnews%26utm_campaign%3Dspring&counter=0&timezone_offset=-60&resolution=1920x1080&platform=Linux&do_not_track=false&timezone=Europe%2FBerlin&email=jane%40example.com&firstname=Jane&company=Acme&tags=a%2C-b';

/** The default part of the capture (everything before the custom keys), with a given counter. */
export function capturedDefaults(counter: number): string {
  const head = CAPTURED_BODY.slice(0, CAPTURED_BODY.indexOf('&email='));
  return head.replace('&counter=0&', `&counter=${counter}&`);
}

/** The custom keys of the capture, as sent. */
export const CAPTURED_CUSTOM = 'email=jane%40example.com&firstname=Jane&company=Acme&tags=a%2C-b';

/** The call of §3, as page source. */
export const CAPTURE_CALL_PARAMS = "{email:'jane@example.com',firstname:'Jane',company:'Acme',tags:'a,-b'}";

/**
 * Opens a context with the capture's settings; `body` is put into the page served at
 * CAPTURE_PAGE_URL (the rest of the page, instrumentation included, comes from sitePage).
 *
 * How the exact URL is served: the context uses the site server as its HTTP proxy (the site server
 * answers absolute-form requests by path), with loopback's implicit proxy bypass removed so that
 * `localhost:8098` goes through it, and mautic.test bypassing it. Playwright's request routing is
 * deliberately not used: with routing on, Playwright answers CORS preflights itself, which would
 * hide exactly the CORS behaviour these tests depend on.
 */
export async function openCaptureContext(env: E2EEnv, body: string): Promise<OpenedPage> {
  const url = new URL(CAPTURE_PAGE_URL);
  env.site.setPage(url.pathname, sitePage({ title: CAPTURE_TITLE, body }));
  const opened = await env.open({
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
    screen: { width: 1920, height: 1080 },
    viewport: { width: 1280, height: 720 },
    proxy: { server: `http://127.0.0.1:${env.site.port}`, bypass: '<-loopback>,mautic.test' },
  });
  await opened.page.clock.setFixedTime(CAPTURE_WINTER_DATE);
  return opened;
}

/** Throws when the browser would not report the capture's platform without faking. */
export async function assertLinuxPlatform(page: Page): Promise<void> {
  const appVersion = await page.evaluate(() => navigator.appVersion);
  if (!/Linux/.test(appVersion)) {
    throw new Error(`§3 byte test needs a Linux browser (platform=Linux); navigator.appVersion is "${appVersion}"`);
  }
}
