/**
 * Dynamic web content and focus items through the proxy (issue 13, src/server/core/content-relay.ts):
 * Chromium loads a page whose snippet points at the proxy on the site (`/mt/mtc.js`); the slot
 * fills and the focus items (one from a campaign action, one embedded in the slot's content) show,
 * while the browser talks to the site's origin only. Then the relay's rules, straight on `handle`.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright';
import { launchChromium } from '../support/chromium.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';
import { settle, ARRIVES_MS, type Standin } from '../support/e2e-env.js';
import { startStandin } from '../../src/devserver/index.js';
import type { DynamicContentInput } from '../../src/devserver/standin/types.js';
import { createMauticProxy, toNodeListener, type MauticProxy } from '../../src/server/node/index.js';
import { resolveConfig } from '../../src/server/core/config.js';
import { focusItemsProxied, proxiedFocusUrls } from '../../src/server/core/content-relay.js';

const dynamicContent: DynamicContentInput[] = [];
const trackingEvents: Record<string, unknown[]> = {};
let mautic: Standin;
let proxy: MauticProxy;
let site: Server;
let siteUrl: string;
let browser: Browser;

beforeAll(async () => {
  [mautic, browser] = await Promise.all([startStandin({ host: '127.0.0.1', port: 0, dynamicContent, trackingEvents }), launchChromium()]);
  // What Mautic puts in content for a {focus=4} token, and a campaign action showing focus item 5.
  dynamicContent.push({
    slotName: 'hero',
    content: `<b class="dwc">Hello</b><script src="${mautic.url}/focus/4.js" type="text/javascript" charset="utf-8" async="async"></script>`,
  });
  trackingEvents.focus_item = [{ id: 5, js: `${mautic.url}/focus/5.js` }];
  mautic.reset();
  proxy = createMauticProxy({
    mauticUrl: mautic.url,
    basePath: '/mt',
    secret: randomBytes(32).toString('hex'),
    script: new Uint8Array(readFileSync(new URL('../../dist/mtc.js', import.meta.url))),
  });
  const relay = toNodeListener(proxy);
  const page = sitePage({
    title: 'Through the proxy',
    body: `<div id="hero" data-slot="dwc" data-slot-name="hero">Fallback hero</div>
${mauticSnippet({ scriptUrl: '/mt/mtc.js', calls: "mt('send', 'pageview', { email: 'kim@example.com' });" })}`,
  });
  site = createServer((req, res) => {
    if (proxy.owns(new URL(req.url ?? '/', 'http://site').pathname)) return relay(req, res);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://site.test:${(site.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([browser?.close(), mautic?.close(), new Promise((resolve) => site?.close(resolve))]);
});

const mauticGets = (prefix: string) => mautic.requests.filter((r) => r.method === 'GET' && r.path.startsWith(prefix));

test('a slot fills and focus items show through the proxy; the browser talks to the site only', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    await page.goto(siteUrl + '/');

    await page.waitForFunction(() => document.querySelector('#hero .dwc')?.textContent === 'Hello', undefined, { timeout: ARRIVES_MS });
    await page.waitForSelector('.mautic-focus[data-focus-id="4"]', { timeout: ARRIVES_MS });
    await page.waitForSelector('.mautic-focus[data-focus-id="5"][data-contact-id]', { timeout: ARRIVES_MS });
    await settle();

    expect([...origins]).toEqual([siteUrl]);
    const [slot] = mauticGets('/dwc/');
    expect(slot!.path).toBe('/dwc/hero');
    const query = new URLSearchParams(slot!.search);
    // The pageview's parameters, less the identity claim the proxy drops from hits too.
    expect(query.get('page_url')).toBe(siteUrl + '/');
    expect(query.get('mautic_device_id')).toMatch(/^[0-9a-z]+$/);
    expect(query.has('email')).toBe(false);
    expect(mauticGets('/focus/').map((r) => r.path).sort()).toEqual(['/focus/4.js', '/focus/5.js']);
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('the relay: GET only, exact paths, a 204 stays a 204, an error is a 502, nothing at the root', async () => {
  const get = (path: string, init: RequestInit = {}) => proxy.handle(new Request(siteUrl + path, init), { clientIp: '127.0.0.1' });
  const none = await get('/mt/dwc/no-such-slot', { headers: { 'x-requested-with': 'XMLHttpRequest' } });
  expect([none.status, await none.text()]).toEqual([204, '']);
  const hero = await get('/mt/dwc/hero');
  expect(hero.status).toBe(200);
  expect(hero.headers.get('content-type')).toBe('application/json');
  // Anonymous (no device cookie): the item has no filter, so it answers, with the URL on the proxy.
  expect(((await hero.json()) as { content: string }).content).toContain('src="/mt/focus/4.js"');
  const focus = await get('/mt/focus/4.js');
  expect([focus.status, focus.headers.get('content-type')]).toEqual([200, 'application/javascript; charset=utf-8']);
  expect(await focus.text()).toContain('MauticJS.documentReady');
  // Mautic's error pages never reach the site: a failing slot or focus script is a 502.
  mautic.inject({ route: 'any', status: 404, body: '<html>Not found</html>' });
  expect((await get('/mt/focus/4.js')).status).toBe(502);
  expect((await get('/mt/dwc/hero')).status).toBe(502);
  mautic.clearInjections();
  // Refused requests never reach Mautic.
  const before = mautic.requests.length;
  expect((await get('/mt/dwc/hero', { method: 'POST', body: 'x' })).status).toBe(405);
  for (const path of ['/mt/focus/x.js', '/mt/focus/4.js/more', '/mt/dwc/', '/mt/dwc/a/b', '/mt/media/js/mautic-form.js']) {
    expect((await get(path)).status, path).toBe(404);
  }
  const rooted = createMauticProxy({ mauticUrl: mautic.url, basePath: '', secret: randomBytes(32).toString('hex') });
  expect(rooted.owns('/dwc/hero')).toBe(false);
  expect((await rooted.handle(new Request(siteUrl + '/dwc/hero'), { clientIp: '127.0.0.1' })).status).toBe(404);
  expect(mautic.requests.length - before).toBe(0);
});

test('only {mauticUrl}/focus/{id}.js is renamed to the proxy; every other URL stays, and the browser ignores it', () => {
  const config = resolveConfig({ mauticUrl: 'https://m.example.com/mautic', basePath: '/mt', secret: 'x'.repeat(32) });
  expect(
    proxiedFocusUrls(
      config,
      [
        '<script src="https://m.example.com/mautic/focus/3.js">',
        '<script src="https://m.example.com/mautic/focus/x.js">',
        '<script src="https://m.example.com/focus/4.js">',
        '<script src="https://evil.example/mautic/focus/5.js">',
      ].join(''),
    ),
  ).toBe(
    [
      '<script src="/mt/focus/3.js">',
      '<script src="https://m.example.com/mautic/focus/x.js">',
      '<script src="https://m.example.com/focus/4.js">',
      '<script src="https://evil.example/mautic/focus/5.js">',
    ].join(''),
  );
  expect(focusItemsProxied(config, { events: [] })).toBeNull();
  expect(focusItemsProxied(config, { id: 1, events: { focus_item: [{ id: 3, js: 'https://m.example.com/mautic/focus/3.js' }, null, { id: 4, js: 4 }] } })).toEqual({
    id: 1,
    events: { focus_item: [{ id: 3, js: '/mt/focus/3.js' }, null, { id: 4, js: 4 }] },
  });
});
