/**
 * Single-page apps on the npm entry: a page imports dist/index.mjs as an ES module
 * (what a bundler would inline), uses createTracker's promises and enableAutoPageviews: one hit per
 * distinct URL visit through pushState / replaceState / popstate, with the new page's title, until
 * the returned function stops it.
 */
import { expect, test } from 'vitest';
import type { Page } from 'playwright';
import { useE2E, waitForHits, settle, type Hit } from '../support/e2e-env.js';
import { sitePage } from '../support/site-server.js';

const env = useE2E();

/** The app: a tiny router that sets the title after changing the URL, as routers do. */
function appPage(): string {
  return sitePage({
    title: 'Start',
    instrument: false,
    body: `<script type="module">
import { createTracker } from '/dist/index.mjs';
const titles = { '/app/start': 'Start', '/app/a': 'Page A', '/app/b': 'Page B', '/app/c': 'Page C', '/app/d': 'Page D' };
window.addEventListener('popstate', () => { document.title = titles[location.pathname] || 'Unknown'; });
window.__go = (path) => { history.pushState({}, '', path); document.title = titles[path]; };
window.__replace = (path) => { history.replaceState({}, '', path); document.title = titles[path]; };
// Like a framework effect: the title changes in a later task than the history call.
window.__goLater = (path) => { history.pushState({}, '', path); setTimeout(() => { document.title = titles[path]; }, 0); };
window.__tracker = createTracker({ url: ${JSON.stringify(env.mauticBase)} });
window.__ready = true;
</script>`,
  });
}

async function openApp(): Promise<{ page: Page; pageErrors: string[] }> {
  env.site.setPage('/app/start', appPage());
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/app/start'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true, undefined, {
    timeout: 10_000,
  });
  return { page, pageErrors };
}

const onPath = (path: string) => (hit: Hit) => hit.params.page_url !== undefined && new URL(hit.params.page_url).pathname === path;

interface SendResultLike {
  ok: boolean;
  via?: string;
  response?: { id?: unknown; device_id?: unknown };
  error?: unknown;
}

test('createTracker: pageview() and event() resolve with the outcome the stand-in saw', async () => {
  const { page, pageErrors } = await openApp();
  const pageview = await page.evaluate(async () => {
    const t = (window as unknown as { __tracker: { pageview(p?: object): Promise<SendResultLike> } }).__tracker;
    const r = await t.pageview({ email: 'spa@example.com' });
    return { ok: r.ok, via: r.via, response: r.response };
  });
  expect(pageview.ok).toBe(true);
  expect(pageview.via).toBe('post');
  const [hit] = await waitForHits(env.mautic, 1, onPath('/app/start'));
  expect(hit!.params.email).toBe('spa@example.com');
  expect(pageview.response?.id).toBe(hit!.contactId);

  const event = await page.evaluate(async () => {
    const t = (window as unknown as { __tracker: { event(c: string, a: string): Promise<SendResultLike> } }).__tracker;
    const r = await t.event('Video', 'play');
    return { ok: r.ok, via: r.via };
  });
  expect(event).toEqual({ ok: true, via: 'post' });
  const [eventHit] = await waitForHits(env.mautic, 1, (h) => h.query.mt_action === 'play');
  expect(eventHit!.contactId).toBe(hit!.contactId);
  expect(eventHit!.params.mautic_device_id).toBe(String(pageview.response?.device_id));
  expect(pageErrors).toEqual([]);
});

test('enableAutoPageviews: one hit per distinct URL visit with the new title; same-URL pushes are not hits; the stop function stops it', async () => {
  const { page, pageErrors } = await openApp();
  await page.evaluate(() => {
    const w = window as unknown as { __tracker: { enableAutoPageviews(): () => void }; __stop: () => void };
    w.__stop = w.__tracker.enableAutoPageviews();
  });
  const go = (path: string) => page.evaluate((p) => (window as unknown as { __go(p: string): void }).__go(p), path);

  await go('/app/a');
  const [a] = await waitForHits(env.mautic, 1, onPath('/app/a'));
  expect(a!.params.page_title).toBe('Page A');
  expect(a!.params.page_url).toBe(env.site.url('/app/a'));

  await page.evaluate(() => (window as unknown as { __goLater(p: string): void }).__goLater('/app/b'));
  const [b] = await waitForHits(env.mautic, 1, onPath('/app/b'));
  expect(b!.params.page_title).toBe('Page B');

  await go('/app/b'); // same URL again: not a new visit

  await page.evaluate(() => (window as unknown as { __replace(p: string): void }).__replace('/app/c'));
  const [c] = await waitForHits(env.mautic, 1, onPath('/app/c'));
  expect(c!.params.page_title).toBe('Page C');

  // History is now start, a, b, c (the same-URL entry was replaced): back is a popstate to /app/b.
  await page.goBack();
  await waitForHits(env.mautic, 2, onPath('/app/b'));
  const bHits = env.mautic.hits.filter(onPath('/app/b'));
  expect(bHits[1]!.params.page_title).toBe('Page B');

  await page.evaluate(() => (window as unknown as { __stop: () => void }).__stop());
  await go('/app/d');
  await settle();
  expect(env.mautic.hits.filter(onPath('/app/a'))).toHaveLength(1);
  expect(env.mautic.hits.filter(onPath('/app/b'))).toHaveLength(2);
  expect(env.mautic.hits.filter(onPath('/app/c'))).toHaveLength(1);
  expect(env.mautic.hits.filter(onPath('/app/d'))).toHaveLength(0);
  // One visitor throughout.
  expect(new Set(env.mautic.hits.map((h) => h.contactId)).size).toBe(1);
  expect(pageErrors).toEqual([]);
});
