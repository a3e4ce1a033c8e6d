/**
 * Campaign actions in the `/mtc/event` answer (issue 13, docs/protocol.md §4 `events`), in Chromium
 * through Mautic's unchanged snippet: focus items load their script from the configured Mautic only
 * (the stand-in's `/focus/{id}.js`, which draws through `MauticJS`), anything else is never
 * requested; Facebook Pixel and Google Analytics entries reach the page's `fbq` / `gtag` when it
 * has them and break nothing when it has not.
 */
import { beforeEach, expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, settle, ARRIVES_MS } from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

// The stand-in reads this object on every hit: each test fills it once the ports are known.
const events: Record<string, unknown[]> = {};
const env = useE2E({ trackingEvents: events });

beforeEach(() => {
  for (const key of Object.keys(events)) delete events[key];
});

const focusRequests = () => env.mautic.requests.filter((r) => r.path.startsWith('/focus/'));

test('a focus item on the Mautic origin is loaded once; its script draws through MauticJS.documentReady and onFirstEventDelivery', async () => {
  events.focus_item = [{ id: 3, js: `${env.mauticBase}/focus/3.js` }];
  env.site.setPage(
    '/landing',
    sitePage({
      title: 'Landing',
      body: mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview'); mt('send', 'event', 'Video', 'play');" }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/landing'));

  const [hit] = await waitForHits(env.mautic, 2);
  await page.waitForSelector('.mautic-focus[data-focus-id="3"][data-contact-id]', { timeout: ARRIVES_MS });
  expect(await page.$eval('.mautic-focus', (el) => [el.textContent, el.getAttribute('data-contact-id')])).toEqual([
    'Focus item 3',
    String(hit!.contactId),
  ]);
  // Both answers named the item: its script came once, and it drew once.
  await settle();
  expect(focusRequests().map((r) => r.method + ' ' + r.path)).toEqual(['GET /focus/3.js']);
  expect(await page.$$eval('.mautic-focus', (els) => els.length)).toBe(1);
  expect(pageErrors).toEqual([]);
});

test('focus items anywhere but the Mautic origin are never requested', async () => {
  env.site.setPage('/focus/9.js', 'document.body.setAttribute("data-foreign-focus", "ran");');
  events.focus_item = [
    { id: 9, js: env.site.url('/focus/9.js') }, // the site itself: another origin than Mautic
    { id: 10, js: env.site.url('/focus/9.js', 'mautic.test') }, // Mautic's host on another port
    { id: 11, js: `${env.mauticBase.replace('http:', 'https:')}/focus/11.js` }, // another scheme
    { id: 12, js: 'javascript:document.body.setAttribute("data-foreign-focus", "js")' },
    { id: 13, js: '//evil.test/focus/13.js' },
    { id: 14, js: 14 }, // not a URL string
    { js: `${env.mauticBase}/focus/15.js` }, // no id: skipped, as Mautic's script does
    null,
  ];
  env.site.setPage('/page', sitePage({ title: 'Page', body: mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('pv'));" }) }));
  const { page, pageErrors } = await env.open();
  const asked: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/focus/')) asked.push(request.url());
  });
  await page.goto(env.site.url('/page'));
  // The POST was answered (with the events): a pixel fallback would carry none, proving nothing.
  const [pv] = await waitForLog(page, 'pv', { kind: 'onload' });
  expect(pv!.detail?.response?.id).toBeTruthy();
  await settle();

  expect(asked).toEqual([]);
  expect(env.site.requested.filter((path) => path.startsWith('/focus/'))).toEqual([]);
  expect(focusRequests()).toEqual([]);
  expect(await page.evaluate(() => document.body.getAttribute('data-foreign-focus'))).toBeNull();
  expect(pageErrors).toEqual([]);
});

test('npm entry: Facebook Pixel and Google Analytics entries go to the page’s fbq and gtag', async () => {
  events.facebook_pixel = [{ action: 'Signup', label: 'trial' }, { label: 'no action: skipped' }];
  events.google_analytics = [{ category: 'Campaign', action: 'Opened', label: 'spring' }];
  env.site.setPage(
    '/tags',
    sitePage({
      title: 'Tags',
      instrument: false,
      head: `<script>
window.__calls = [];
window.fbq = function () { __calls.push(['fbq'].concat([].slice.call(arguments))); };
window.gtag = function () { __calls.push(['gtag'].concat([].slice.call(arguments))); };
</script>`,
      body: `<script type="module">
import { createTracker } from '/dist/index.mjs';
createTracker({ url: ${JSON.stringify(env.mauticBase)} }).pageview();
</script>`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/tags'));
  await page.waitForFunction(() => (window as unknown as { __calls: unknown[] }).__calls.length >= 2, undefined, { timeout: ARRIVES_MS });
  await settle();
  expect(await page.evaluate(() => (window as unknown as { __calls: unknown[] }).__calls)).toEqual([
    ['fbq', 'trackCustom', 'Signup', { eventLabel: 'trial' }],
    ['gtag', 'event', 'Opened', { event_category: 'Campaign', event_label: 'spring' }],
  ]);
  expect(pageErrors).toEqual([]);
});

test('without fbq and gtag on the page, the entries are dropped and the page and later hits are fine', async () => {
  events.facebook_pixel = [{ action: 'Signup', label: 'trial' }];
  events.google_analytics = [{ category: 'Campaign', action: 'Opened', label: 'spring' }];
  events.focus_item = [{ id: 4, js: `${env.mauticBase}/focus/4.js` }];
  env.site.setPage(
    '/bare',
    sitePage({
      title: 'Bare',
      // A page whose gtag is not a function (a stray global of that name) gets nothing either.
      head: '<script>window.gtag = "not a function";</script>',
      body: mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('pv')); mt('send', 'event', 'A', 'b', '', '', {}, __cb('ev'));" }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/bare'));
  await waitForHits(env.mautic, 2);
  // The focus item still shows: the page's broken gtag cannot keep it from loading.
  await page.waitForSelector('.mautic-focus[data-focus-id="4"]', { timeout: ARRIVES_MS });
  expect(pageErrors).toEqual([]);
});
