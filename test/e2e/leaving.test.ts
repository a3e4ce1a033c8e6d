/**
 * Nothing lost on leaving: sends queued behind a slow first POST go out at `pagehide`
 * as beacons — CORS-simple POSTs to /mtc/event, form-encoded, without X-Requested-With — and the
 * first one, already on the wire, is not sent again.
 */
import { expect, test } from 'vitest';
import type { Page } from 'playwright';
import { useE2E, waitForHits, headerOf, settle, type Hit } from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

const env = useE2E();

/** How long the stand-in holds the first POST: far longer than the test needs to leave the page. */
const FIRST_POST_DELAY_MS = 3_000;

const isClick = (hit: Hit) => hit.params.page_url?.includes('mt_action=click') ?? false;
const isStep2 = (hit: Hit) => hit.params.step === '2';

async function openPageWithQueuedSends(): Promise<{ page: Page; pageErrors: string[]; pageUrl: string }> {
  env.mautic.inject({ route: 'event', delayMs: FIRST_POST_DELAY_MS, times: 1 });
  env.site.setPage('/leave', sitePage({ title: 'Leaving', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  env.site.setPage('/next', sitePage({ title: 'Next' }));
  const { page, pageErrors } = await env.open();
  const pageUrl = env.site.url('/leave');
  await page.goto(pageUrl);
  // The first pageview is on the wire (the stand-in holds it) once the stand-in saw a request for it.
  await env.mautic.waitFor(() => env.mautic.requests.some((r) => r.method === 'POST' && r.path === '/mtc/event'), 10_000);
  await page.evaluate(() => {
    const mt = (window as unknown as { mt: (...args: unknown[]) => void }).mt;
    mt('send', 'event', 'Cta', 'click');
    mt('send', 'pageview', { step: '2' });
  });
  // Both are queued behind the held first POST: nothing of them has arrived yet.
  expect(env.mautic.hits.filter((h) => isClick(h) || isStep2(h))).toHaveLength(0);
  return { page, pageErrors, pageUrl };
}

function expectBeacon(hit: Hit, pageUrl: string): void {
  expect(hit.via).toBe('post');
  expect(hit.method).toBe('POST');
  expect(hit.path).toBe('/mtc/event');
  expect(headerOf(hit.headers, 'x-requested-with')).toBeUndefined();
  expect(headerOf(hit.headers, 'content-type')).toBe('application/x-www-form-urlencoded');
  expect(hit.params.page_url?.startsWith(pageUrl)).toBe(true);
}

test('navigating away with sends pending: the queued sends arrive once each, as beacons', async () => {
  const { page, pageErrors, pageUrl } = await openPageWithQueuedSends();
  await page.goto(env.site.url('/next'));

  const [click] = await waitForHits(env.mautic, 1, isClick);
  const [step2] = await waitForHits(env.mautic, 1, isStep2);
  expectBeacon(click!, pageUrl);
  expectBeacon(step2!, pageUrl);
  // Let the held first POST finish (or be dropped) before counting duplicates.
  await settle(FIRST_POST_DELAY_MS);
  expect(env.mautic.hits.filter(isClick)).toHaveLength(1);
  expect(env.mautic.hits.filter(isStep2)).toHaveLength(1);
  // The first pageview was already on the wire: it is not beaconed a second time.
  expect(env.mautic.hits.filter((h) => h.params.page_url === pageUrl && h.params.step === undefined).length).toBeLessThanOrEqual(1);
  expect(pageErrors).toEqual([]);
});

test('closing the tab with sends pending: the queued sends arrive as beacons', async () => {
  const { page, pageUrl } = await openPageWithQueuedSends();
  await page.close({ runBeforeUnload: true });

  const [click] = await waitForHits(env.mautic, 1, isClick);
  const [step2] = await waitForHits(env.mautic, 1, isStep2);
  expectBeacon(click!, pageUrl);
  expectBeacon(step2!, pageUrl);
  await settle();
  expect(env.mautic.hits.filter(isClick)).toHaveLength(1);
  expect(env.mautic.hits.filter(isStep2)).toHaveLength(1);
});
