/**
 * The proxy's route renames, end to end in Chromium: a site runs the proxy at /mt with every
 * route renamed (`paths`), in front of the Mautic stand-in. Mautic's unchanged snippet loads the
 * script from the renamed script route and its hits (POST, and the pixel and id lookup when the
 * POST fails) and identify go to the renamed routes; the npm entry does the same with its own
 * `paths` option. No request ever goes to a default route, and Mautic records every hit.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startStandin } from '../../src/devserver/index.js';
import { createMauticProxy, loadSdkScript, toNodeListener } from '../../src/server/node/index.js';
import { launchChromium, newWatchedContext } from '../support/chromium.js';
import { listenLocal, type LocalServer } from '../support/local-server.js';
import { ARRIVES_MS, waitForHits, type Standin } from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

const API_CLIENT = { id: 'e2e-renamed-routes', secret: randomBytes(24).toString('hex') };
/** Every route renamed, the script into a subfolder (its routes are then one folder up). */
const PATHS = { script: '/js/t.js', event: '/e', pixel: '/p.gif', contactIds: '/ids', identify: '/who' };
const DEFAULT_ROUTES = ['/mt/mtc.js', '/mt/mtc/event', '/mt/mtracking.gif', '/mt/mtc', '/mt/identify'];
const DIST = resolve('dist');

let browser: Browser;
let mautic: Standin;
let site: LocalServer;
let origin: string;
const pages = new Map<string, string>();
/** Paths (with query) the browser asked the site for. */
const requested: string[] = [];

beforeAll(async () => {
  [browser, mautic] = await Promise.all([
    launchChromium(),
    startStandin({ host: '127.0.0.1', port: 0, api: { clients: [API_CLIENT] } }),
  ]);
  const proxy = createMauticProxy({
    mauticUrl: mautic.url,
    basePath: '/mt',
    secret: randomBytes(32).toString('hex'),
    script: await loadSdkScript(),
    paths: PATHS,
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
    identify: { mode: 'unsigned', history: false },
  });
  const relay = toNodeListener(proxy);
  site = await listenLocal(createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.test');
    requested.push(url.pathname + url.search);
    if (url.pathname.startsWith('/mt/')) return relay(req, res);
    const html = pages.get(url.pathname);
    if (html !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(html);
    }
    const file = resolve(DIST, url.pathname.slice('/dist/'.length));
    if (!url.pathname.startsWith('/dist/') || !file.startsWith(DIST + sep)) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': extname(file) === '.js' || extname(file) === '.mjs' ? 'text/javascript' : 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  }));
  origin = `http://site.test:${site.port}`;
});

afterEach(() => {
  mautic.reset();
  requested.length = 0;
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await mautic?.close();
});

async function open(path: string, html: string): Promise<{ page: Page; pageErrors: string[]; close: () => Promise<void> }> {
  pages.set(path, html);
  const { context, pageErrors } = await newWatchedContext(browser);
  const page = await context.newPage();
  await page.goto(origin + path);
  return { page, pageErrors, close: () => context.close() };
}

/** Every request to the proxy went to a renamed route. */
function expectOnlyRenamedRoutes(): void {
  const proxied = requested.map((path) => path.split('?')[0]!).filter((path) => path.startsWith('/mt/'));
  expect(proxied.length).toBeGreaterThan(0);
  for (const route of DEFAULT_ROUTES) expect(proxied).not.toContain(route);
}

test('the snippet loads the renamed script, whose pageview and identify go to the renamed routes', async () => {
  const { page, pageErrors, close } = await open(
    '/home',
    sitePage({
      title: 'Renamed home',
      body: mauticSnippet({
        scriptUrl: '/mt/js/t.js',
        calls: "mt('send', 'pageview', {}, __cb('pageview')); mt('identify', { email: 'renamed@example.com' }, __cb('identify'));",
      }),
    }),
  );
  const [hit] = await waitForHits(mautic, 1);
  await expect.poll(() => page.evaluate(() => (window as unknown as { __log: Array<{ tag: string; kind: string }> }).__log.map((e) => `${e.tag}:${e.kind}`)), { timeout: ARRIVES_MS }).toEqual(
    expect.arrayContaining(['pageview:onload', 'identify:onload']),
  );
  await close();
  expect(pageErrors).toEqual([]);
  expect(hit?.title).toBe('Renamed home');
  expect(requested).toContain('/mt/e');
  expect(requested).toContain('/mt/who');
  expect(mautic.contacts.find((c) => c.fields.email === 'renamed@example.com')?.id).toBe(hit?.contactId);
  expectOnlyRenamedRoutes();
});

test('when the POST fails, the script falls back to the renamed pixel and id lookup', async () => {
  mautic.inject({ route: 'event', status: 500, times: 1 });
  const { page, pageErrors, close } = await open(
    '/fallback',
    sitePage({ title: 'Renamed fallback', body: mauticSnippet({ scriptUrl: '/mt/js/t.js', calls: "mt('send', 'pageview', {}, __cb('pageview'));" }) }),
  );
  const [hit] = await waitForHits(mautic, 1);
  const deviceId = await page.waitForFunction(() => localStorage.getItem('mautic_device_id')).then((h) => h.jsonValue());
  await close();
  expect(pageErrors).toEqual([]);
  expect(hit?.title).toBe('Renamed fallback');
  expect(deviceId).toBe(hit?.deviceId);
  expect(requested.some((path) => path.startsWith('/mt/p.gif?'))).toBe(true);
  expect(requested).toContain('/mt/ids');
  expectOnlyRenamedRoutes();
});

test('the npm entry with the same `paths` sends its pageview and identify to the renamed routes', async () => {
  const { page, pageErrors, close } = await open(
    '/app',
    sitePage({
      title: 'Renamed app',
      instrument: false,
      body: `<script type="module">
import { createTracker } from '/dist/index.mjs';
const tracker = createTracker({ url: '/mt', paths: ${JSON.stringify({ event: PATHS.event, pixel: PATHS.pixel, contactIds: PATHS.contactIds, identify: PATHS.identify })} });
window.__results = Promise.all([tracker.pageview(), tracker.identify({ email: 'npm-renamed@example.com' })]).then((all) => all.map((r) => r.ok));
</script>`,
    }),
  );
  await page.waitForFunction(() => 'then' in Object((window as unknown as { __results?: unknown }).__results ?? {}));
  const results = await page.evaluate(() => (window as unknown as { __results: Promise<boolean[]> }).__results);
  const [hit] = await waitForHits(mautic, 1);
  await close();
  expect(pageErrors).toEqual([]);
  expect(results).toEqual([true, true]);
  expect(hit?.title).toBe('Renamed app');
  expect(requested).toContain('/mt/e');
  expect(requested).toContain('/mt/who');
  expect(mautic.contacts.find((c) => c.fields.email === 'npm-renamed@example.com')?.id).toBe(hit?.contactId);
  expectOnlyRenamedRoutes();
});
