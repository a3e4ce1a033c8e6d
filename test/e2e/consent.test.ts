/**
 * Consent, Do Not Track and Global Privacy Control in real Chromium against the Mautic stand-in
 * (issue 14, one or more tests per point, named "point N, …"): what reaches Mautic and what the
 * browser stores (the site's localStorage, every cookie of the context), before and after each
 * decision.
 *
 * Do Not Track is the browser's own: a Chromium profile with "Send a Do Not Track request" on
 * (test/support/chromium.ts), which sends `DNT: 1` and reports `navigator.doNotTrack == '1'`.
 * Chromium has no Global Privacy Control, so a GPC browser (Firefox, Brave) is stood in for by what
 * such a browser shows a page: `navigator.globalPrivacyControl === true` and `Sec-GPC: 1`.
 */
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import type { BrowserContext, Page } from 'playwright';
import { launchDoNotTrackContext } from '../support/chromium.js';
import { headerOf, readLog, settle, settlements, useE2E, waitForHits, waitForLog } from '../support/e2e-env.js';
import { mauticSnippet, npmTrackerPage, sitePage } from '../support/site-server.js';
import { createMauticProxy, loadSdkScript, toNodeListener } from '../../src/server/node/index.js';
import { QUEUE_KEY_PREFIX, QUEUE_LEASE_KEY } from '../../src/protocol/wire.js';

vi.setConfig({ testTimeout: 30_000 });

// Consent is in dist/mtc.durable.js and the npm entry, not in dist/mtc.js (its size budget): the
// stand-in serves the durable variant as its mtc.js, as a site that wants consent mode installs it.
// Content for every visitor, and content only a known contact with a first name gets.
const env = useE2E({
  scriptFile: resolve('dist/mtc.durable.js'),
  publiclyUpdatableFields: ['firstname'],
  dynamicContent: [
    { slotName: 'promo', content: '<b class="dwc">For everyone</b>' },
    { slotName: 'hello', content: '<b class="dwc">Hello {contactfield=firstname}</b>', filters: [{ field: 'firstname', operator: '!empty' }] },
  ],
});

/** Requests of the page to Mautic, the script itself left out. */
const mauticCalls = () => env.mautic.requests.filter((r) => r.path !== '/mtc.js');

/** What the browser keeps: the page's localStorage and every cookie of the context, by host. */
async function kept(page: Page, context: BrowserContext): Promise<{ local: Record<string, string>; cookies: string[] }> {
  const local = await page.evaluate(() => ({ ...localStorage }));
  const cookies = (await context.cookies()).map((c) => `${c.domain} ${c.name}`).sort();
  return { local, cookies };
}
const NOTHING = { local: {}, cookies: [] };

/** Waits until the script has replaced the snippet's queue (so every queued call has run). */
const scriptLoaded = (page: Page) => page.waitForFunction(() => (window as unknown as { mt?: { mtc?: 1 } }).mt?.mtc === 1);

function snippetPage(path: string, calls: string, title = 'Consent page'): string {
  const url = env.site.url(path);
  env.site.setPage(path, sitePage({ title, body: mauticSnippet({ scriptUrl: env.scriptUrl, calls }) }));
  return url;
}

test('point 1, snippet: with consent required nothing is sent or stored; the grant sends the held pageview and event in order, one contact', async () => {
  const url = snippetPage(
    '/held',
    `mt('config', {consent: 'required'});
mt('send', 'pageview', {tags: 'held'}, __cb('pv'));
mt('send', 'event', 'Video', 'play', 'intro', 30, {}, __cb('ev'));`,
  );
  const { context, page, pageErrors } = await env.open();
  await page.goto(url);
  await scriptLoaded(page);
  await settle();
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);
  expect(settlements(await readLog(page), 'pv')).toEqual([]);

  await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('consent', 'grant'));
  const hits = await waitForHits(env.mautic, 2);
  await waitForLog(page, 'ev', { kind: 'onload' });
  await settle();
  expect(hits.map((h) => h.event?.action ?? 'pageview')).toEqual(['pageview', 'play']);
  expect(hits[0]!.params.tags).toBe('held');
  expect(hits[0]!.pageUrl).toBe(url);
  expect(env.mautic.contacts).toHaveLength(1);
  expect(hits[1]!.contactId).toBe(hits[0]!.contactId);
  const log = await readLog(page);
  expect(settlements(log, 'pv').map((e) => e.kind)).toEqual(['onload']);
  expect(settlements(log, 'ev').map((e) => e.kind)).toEqual(['onload']);
  const after = await kept(page, context);
  expect(after.local).toEqual({ mtc_id: String(hits[0]!.contactId), mautic_device_id: hits[0]!.deviceId });
  expect(after.cookies).toEqual(expect.arrayContaining(['site.test mautic_device_id', 'site.test mtc_id']));
  expect(env.mautic.hits).toHaveLength(2);
  expect(pageErrors).toEqual([]);
});

test('point 1, snippet: a deny removes the ids and the first-party cookies the script wrote; later sends are refused and reach nobody', async () => {
  const url = snippetPage('/deny', `mt('send', 'pageview', {}, __cb('pv'));`);
  const { context, page, pageErrors } = await env.open();
  await page.goto(url);
  await waitForLog(page, 'pv', { kind: 'onload' });
  const before = await kept(page, context);
  expect(Object.keys(before.local).sort()).toEqual(['mautic_device_id', 'mtc_id']);
  expect(before.cookies).toEqual(expect.arrayContaining(['site.test mautic_device_id', 'site.test mtc_id']));
  // A cookie of the site's own stays.
  await context.addCookies([{ name: 'site_session', value: 'abc', url: env.site.url('/') }]);

  await page.evaluate(() => {
    const mt = (window as unknown as { mt: (...a: unknown[]) => void; __cb: (t: string) => unknown }).mt;
    mt('consent', 'deny');
    mt('send', 'event', 'Form', 'submit', '', '', {}, (window as unknown as { __cb: (t: string) => unknown }).__cb('after'));
  });
  const [refused] = await waitForLog(page, 'after', { kind: 'onerror' });
  expect(refused!.message).toBe('consent');
  await settle();
  const after = await kept(page, context);
  expect(after.local).toEqual({});
  expect(after.cookies.filter((c) => c.startsWith('site.test'))).toEqual(['site.test site_session']);
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('point 1, snippet: a deny while sends are held settles them with onerror("consent"); nothing ever reaches Mautic', async () => {
  const url = snippetPage(
    '/held-deny',
    `mt('config', {consent: 'required'});
mt('send', 'pageview', {}, __cb('pv'));
mt('send', 'event', 'a', 'b', '', '', {}, __cb('ev'));`,
  );
  const { context, page, pageErrors } = await env.open();
  await page.goto(url);
  await scriptLoaded(page);
  await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('consent', 'deny'));
  await waitForLog(page, 'ev', { kind: 'onerror' });
  await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('consent', 'grant'));
  await settle();
  const log = await readLog(page);
  expect(settlements(log, 'pv').map((e) => [e.kind, e.message])).toEqual([['onerror', 'consent']]);
  expect(settlements(log, 'ev').map((e) => [e.kind, e.message])).toEqual([['onerror', 'consent']]);
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);
  expect(pageErrors).toEqual([]);
});

test('point 1, snippet: no decision within the timeout settles the held pageview with onerror("timeout") once; a later grant still records it', async () => {
  const url = snippetPage('/late', `mt('config', {consent: 'required', timeout: 400});\nmt('send', 'pageview', {tags: 'late'}, __cb('pv'));`);
  const { context, page, pageErrors } = await env.open();
  await page.goto(url);
  const [timedOut] = await waitForLog(page, 'pv', { kind: 'onerror' });
  expect(timedOut!.message).toBe('timeout');
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);

  // The grant starts the send with the timeout read then: 400 ms is too short for a loaded machine
  // to get a cross-site POST (with its preflight) answered, and then nothing would be delivered.
  await page.evaluate(() => {
    const mt = (window as unknown as { mt: (...a: unknown[]) => void }).mt;
    mt('config', { timeout: 5000 });
    mt('consent', 'grant');
  });
  const [hit] = await waitForHits(env.mautic, 1);
  const [delivered] = await waitForLog(page, 'delivered');
  await settle();
  expect(hit!.params.tags).toBe('late');
  expect(delivered!.detail?.params?.tags).toBe('late');
  expect(settlements(await readLog(page), 'pv')).toHaveLength(1);
  expect((await kept(page, context)).local.mautic_device_id).toBe(hit!.deviceId);
  expect(pageErrors).toEqual([]);
});

test('point 1, npm entry: createTracker({consent: "required"}) holds the pageview; tracker.consent("grant") sends it, tracker.consent("deny") clears', async () => {
  env.site.setPage('/npm', npmTrackerPage({ title: 'npm consent', trackerOptions: { url: env.mauticBase, consent: 'required' } }));
  const { context, page, pageErrors } = await env.open();
  await page.goto(env.site.url('/npm'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true);
  type W = { __tracker: import('../../src/browser/index.js').Tracker; __pv?: Promise<unknown> };
  await page.evaluate(() => {
    (window as unknown as W).__pv = (window as unknown as W).__tracker.pageview({ tags: 'npm' });
  });
  await settle();
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);

  const result = await page.evaluate(async () => {
    const w = window as unknown as W;
    w.__tracker.consent('grant');
    return JSON.parse(JSON.stringify(await w.__pv)) as { ok: boolean; via: string };
  });
  expect(result).toMatchObject({ ok: true, via: 'post' });
  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.params.tags).toBe('npm');
  expect((await kept(page, context)).local.mtc_id).toBe(String(hit!.contactId));

  const refused = await page.evaluate(async () => {
    const w = window as unknown as W;
    w.__tracker.consent('deny');
    const outcome = (await w.__tracker.event('a', 'b')) as { ok: boolean; error?: Error };
    return { ok: outcome.ok, message: outcome.error?.message, local: { ...localStorage } };
  });
  expect(refused).toEqual({ ok: false, message: 'consent', local: {} });
  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('point 1, npm entry with contentBeforeConsent: slots load before consent without any identifier; after the grant they are asked again with the ids', async () => {
  env.site.setPage(
    '/content',
    npmTrackerPage({
      title: 'Content before consent',
      trackerOptions: { url: env.mauticBase, consent: 'required', contentBeforeConsent: true },
      body: `<div id="promo" data-slot="dwc" data-param-slot-name="promo">Promo fallback</div>
<div id="hello" class="mautic-slot" data-slot-name="hello">Hello fallback</div>`,
    }),
  );
  const { context, page, pageErrors } = await env.open();
  await page.goto(env.site.url('/content'));
  await page.waitForFunction(() => document.querySelector('#promo')?.textContent === 'For everyone');
  await settle();
  const asked = env.mautic.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/dwc/'));
  expect(asked.map((r) => r.path).sort()).toEqual(['/dwc/hello', '/dwc/promo']);
  for (const request of asked) {
    expect(request.headers.cookie).toBeUndefined();
    expect(new URLSearchParams(request.search).has('mautic_device_id')).toBe(false);
  }
  expect(await page.textContent('#hello')).toBe('Hello fallback');
  expect(env.mautic.hits).toEqual([]);
  expect(env.mautic.contacts).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);

  await page.evaluate(async () => {
    const tracker = (window as unknown as { __tracker: import('../../src/browser/index.js').Tracker }).__tracker;
    tracker.consent('grant');
    await tracker.pageview({ firstname: 'Kim' });
  });
  await page.waitForFunction(() => document.querySelector('#hello')?.textContent === 'Hello Kim');
  const [hit] = await waitForHits(env.mautic, 1);
  const personal = env.mautic.requests.filter((r) => r.method === 'GET' && r.path === '/dwc/hello').at(-1)!;
  expect(new URLSearchParams(personal.search).get('mautic_device_id')).toBe(hit!.deviceId);
  expect(pageErrors).toEqual([]);
});

test('point 1, npm entry: without contentBeforeConsent no slot is asked before consent (the fallback stays)', async () => {
  env.site.setPage(
    '/no-content',
    npmTrackerPage({
      title: 'No content before consent',
      trackerOptions: { url: env.mauticBase, consent: 'required' },
      body: `<div id="promo" data-slot="dwc" data-param-slot-name="promo">Promo fallback</div>`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/no-content'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true);
  await settle();
  expect(mauticCalls()).toEqual([]);
  expect(await page.textContent('#promo')).toBe('Promo fallback');
  expect(pageErrors).toEqual([]);
});

/** What a GPC browser shows a page and its servers (Chromium has no GPC of its own). */
async function gpcContext() {
  const opened = await env.open({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
  await opened.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  return opened;
}

test('point 2, Global Privacy Control: no hit, nothing stored, even after a grant; honorGpc: false tracks', async () => {
  const url = snippetPage('/gpc', `mt('send', 'pageview', {}, __cb('pv'));\nmt('consent', 'grant');\nmt('send', 'event', 'a', 'b', '', '', {}, __cb('ev'));`);
  const { context, page, pageErrors } = await gpcContext();
  await page.goto(url);
  expect(await page.evaluate(() => (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl)).toBe(true);
  await waitForLog(page, 'ev', { kind: 'onerror' });
  await settle();
  expect(settlements(await readLog(page), 'pv').map((e) => [e.kind, e.message])).toEqual([['onerror', 'consent']]);
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);

  const optedOut = snippetPage('/gpc-off', `mt('config', {honorGpc: false});\nmt('send', 'pageview', {}, __cb('pv'));`);
  await page.goto(optedOut);
  await waitForLog(page, 'pv', { kind: 'onload' });
  const [hit] = await waitForHits(env.mautic, 1);
  expect(headerOf(hit!.headers, 'sec-gpc')).toBe('1');
  expect(Object.keys((await kept(page, context)).local).sort()).toEqual(['mautic_device_id', 'mtc_id']);
  expect(pageErrors).toEqual([]);
});

/** The page's pageview settled with onload, and Mautic recorded it with do_not_track=true and the browser's DNT: 1. */
async function expectTrackedWithDnt(page: Page): Promise<void> {
  await waitForLog(page, 'pv', { kind: 'onload' });
  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.params.do_not_track).toBe('true');
  expect(headerOf(hit!.headers, 'dnt')).toBe('1');
}

test('point 2, Do Not Track set in the browser: no hit, nothing stored; honorDnt: false tracks, with do_not_track=true and DNT: 1', async () => {
  const url = snippetPage('/dnt', `mt('send', 'pageview', {}, __cb('pv'));`);
  const context = await launchDoNotTrackContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    expect(await page.evaluate(() => navigator.doNotTrack)).toBe('1');
    const [refused] = await waitForLog(page, 'pv', { kind: 'onerror' });
    expect(refused!.message).toBe('consent');
    await settle();
    expect(mauticCalls()).toEqual([]);
    expect(await kept(page, context)).toEqual(NOTHING);
    // The browser did ask for the script, with its DNT header: the signal is real.
    expect(headerOf(env.mautic.requests.find((r) => r.path === '/mtc.js')!.headers, 'dnt')).toBe('1');

    await page.goto(snippetPage('/dnt-off', `mt('config', {honorDnt: false});\nmt('send', 'pageview', {}, __cb('pv'));`));
    await expectTrackedWithDnt(page);
  } finally {
    await context.close();
  }
});

// Point 3 in the browser: the proxy in front of the stand-in, on the site's own origin.
let proxySite: Server;
let answeringSite: Server;
const pages = new Map<string, string>();

async function siteWithProxy(privacySignals: 'forward' | 'answer'): Promise<Server> {
  const proxy = toNodeListener(
    createMauticProxy({ mauticUrl: env.mautic.url, secret: 'x'.repeat(40), script: await loadSdkScript({ variant: 'durable' }), privacySignals }),
  );
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/mt/')) return proxy(req, res);
    res.writeHead(pages.has(req.url ?? '') ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(pages.get(req.url ?? '') ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const portOf = (server: Server) => (server.address() as AddressInfo).port;

beforeAll(async () => {
  proxySite = await siteWithProxy('forward');
  answeringSite = await siteWithProxy('answer');
  pages.set(
    '/proxied',
    sitePage({ title: 'Proxied', body: mauticSnippet({ scriptUrl: '/mt/mtc.js', calls: `mt('config', {honorDnt: false});\nmt('send', 'pageview', {}, __cb('pv'));` }) }),
  );
});
afterAll(async () => {
  for (const server of [proxySite, answeringSite]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
});

test('point 3, through the proxy: the browser’s DNT: 1 reaches Mautic with the hit', async () => {
  const context = await launchDoNotTrackContext();
  try {
    const page = await context.newPage();
    await page.goto(`http://site.test:${portOf(proxySite)}/proxied`);
    await expectTrackedWithDnt(page);
  } finally {
    await context.close();
  }
});

test("point 3, through the proxy with privacySignals: 'answer': no call reaches Mautic, the page's onload still runs, nothing is stored", async () => {
  const context = await launchDoNotTrackContext();
  try {
    const page = await context.newPage();
    await page.goto(`http://site.test:${portOf(answeringSite)}/proxied`);
    const [loaded] = await waitForLog(page, 'pv', { kind: 'onload' });
    expect(loaded!.detail?.response).toMatchObject({ success: 1, id: 0, device_id: null });
    await settle();
    expect(env.mautic.requests).toEqual([]);
    expect(env.mautic.contacts).toHaveLength(0);
    expect(await kept(page, context)).toEqual(NOTHING);
  } finally {
    await context.close();
  }
});

// Issue 15 item 5: the durable queue (dist/mtc.durable.js) keeps nothing before consent, and a deny
// clears what it kept. Mautic down: every POST and pixel connection cut before any answer.
test('durable queue, snippet: with consent required and Mautic down nothing is kept before the grant; the grant keeps the failed sends; a deny removes every kept send and the lease, and none is delivered', async () => {
  env.mautic.inject({ route: 'event', refuse: true });
  env.mautic.inject({ route: 'pixel', refuse: true });
  const url = snippetPage(
    '/queue',
    `mt('config', {consent: 'required', timeout: 2000});
mt('send', 'pageview', {n: '1'}, __cb('pv'));
mt('send', 'event', 'Video', 'play', '', '', {n: '2'}, __cb('ev'));`,
  );
  const { context, page, pageErrors } = await env.open();
  const queueKeys = () => page.evaluate((prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).length, QUEUE_KEY_PREFIX);
  await page.goto(url);
  await scriptLoaded(page);
  await settle();
  expect(mauticCalls()).toEqual([]);
  expect(await kept(page, context)).toEqual(NOTHING);
  const keptBeforeGrant = await queueKeys();

  await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('consent', 'grant'));
  await waitForLog(page, 'ev', { kind: 'onerror' });
  const log = await readLog(page);
  expect(settlements(log, 'pv').map((e) => e.kind)).toEqual(['onerror']);
  const keptAfterGrant = await queueKeys();
  expect(keptAfterGrant).toBe(2);
  const triesBeforeDeny = mauticCalls().length;
  expect(triesBeforeDeny).toBeGreaterThan(0);

  await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('consent', 'deny'));
  const keptAfterDeny = await queueKeys();
  expect(keptAfterDeny).toBe(0);
  expect(await page.evaluate((key) => localStorage.getItem(key), QUEUE_LEASE_KEY)).toBeNull();
  expect((await kept(page, context)).local).toEqual({});

  // Mautic back, and the browser's online event: nothing kept is delivered.
  env.mautic.clearInjections();
  await context.setOffline(true);
  await context.setOffline(false);
  await settle(3000);
  expect(env.mautic.hits).toHaveLength(0);
  expect(await queueKeys()).toBe(0);
  expect(pageErrors).toEqual([]);
  console.log(`consent + durable queue (Chromium): sends 2, kept before grant ${keptBeforeGrant}, kept after grant ${keptAfterGrant}, tries ${triesBeforeDeny}, kept after deny ${keptAfterDeny}, recorded after deny ${env.mautic.hits.length}`);
});
