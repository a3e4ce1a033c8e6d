/**
 * Browser → proxy → Mautic stand-in, end to end (issue 3, item 7): real Chromium, real HTTP on
 * 127.0.0.1, the demo site's backend (`startDemoSite`: proxy mounted at `/mt`, toy `POST /login`
 * minting identity tokens) in front of the stand-in's tracking and REST sides.
 *
 * The pages are our own (written to a temporary folder served by the demo backend) so they can
 * record every callback; the backend, proxy, SDK and stand-in are the real ones.
 *
 * Journey: a visitor views pages anonymously (hits relayed first-party), logs in, the page calls
 * `mt('identify', {email, token})`, and the contact that received the anonymous hits becomes the
 * identified one. Attacker cases: what a hostile page or visitor can do from a real browser
 * (wrong/missing token, cross-site POST, tampered binding cookie, spoofed IP headers) changes
 * nothing in Mautic and makes no REST call.
 *
 * Issue 9 ("identification that holds on a real Mautic"), one or more tests per point, named
 * "point N, …": 1 the journey; 2 a returning customer on a new browser, per form-merge survivor
 * rule and with the history merge off; 3 a shared browser; 4 the same person again; 5 an email two
 * contacts share; 6 single-use tokens; 7 the deadline and auth failures; 8 a framework route
 * handler whose request.url says localhost; 9 `mautic-tracker dev`'s API client. The stand-in
 * answers like Mautic 5.1 (422 on a taken email, no REST merge, devices, form-post merges).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium } from '../support/chromium.js';
import { listenLocal } from '../support/local-server.js';
import { mauticSnippet, sitePage, startSiteServer, type SiteServer } from '../support/site-server.js';
import { ARRIVES_MS, readLog, settle, settlements, waitForHits, waitForLog, type Hit, type Standin, type StandinOptions } from '../support/e2e-env.js';
import { startStandin } from '../../src/devserver/index.js';
import { startDemoSite, type DemoSite, type DemoSiteOptions } from '../../src/devserver/demo-site/server.js';
import { CLIENT_IP_HEADERS, createMauticProxy, mintIdentityToken, setupIdentify, type IdentifyHistoryConfig } from '../../src/server/index.js';

const API_CLIENT = { id: 'e2e-proxy-identify', secret: randomBytes(24).toString('hex') };
const PROXY_SECRET = randomBytes(32).toString('hex');
const SCRIPT_URL = '/mt/mtc.js'; // the unchanged snippet points at the site itself
const BINDING_COOKIE = 'mt_binding';
/** Addresses a page or client tries to pass off as the visitor's (TEST-NET-3, never loopback). */
const SPOOFED = '203.0.113.66';

// Each test drives several page loads plus bounded "nothing more arrives" waits; a loaded 2-core
// machine can stretch that past the default 20 s. A bound only, not a speed assertion.
vi.setConfig({ testTimeout: 45_000 });

let browser: Browser;
let mautic: Standin;
let other: SiteServer;
let siteDir: string;
let demo: DemoSite | undefined;
const contexts: BrowserContext[] = [];

/** A tracked page: Mautic's unchanged snippet (script from `/mt/mtc.js`) plus `extra` markup. */
function trackedPage(title: string, extra = ''): string {
  return sitePage({ title, body: mauticSnippet({ scriptUrl: SCRIPT_URL }) + extra });
}

/**
 * The account page: a login form like a real site's. Logging in posts to the demo backend's
 * `/login`, which answers `{email, token}`; the page then identifies the visitor.
 * `window.siteLogin(email)` is the same login, for attacker tests that need a token of their own.
 */
const ACCOUNT_EXTRA = `
<form id="login"><input id="email" type="email"><button id="submit" type="submit">Log in</button></form>
<script>
window.siteLogin = function (email) {
  return fetch('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: email }) })
    .then(function (r) { return r.json(); });
};
document.getElementById('login').addEventListener('submit', function (event) {
  event.preventDefault();
  siteLogin(document.getElementById('email').value).then(function (login) {
    mt('identify', { email: login.email, token: login.token }, __cb('identify'));
  });
});
</script>`;

beforeAll(async () => {
  siteDir = mkdtempSync(join(tmpdir(), 'proxy-identify-'));
  for (const [file, html] of [
    ['p1.html', trackedPage('Pricing')],
    ['p2.html', trackedPage('Features')],
    ['p3.html', trackedPage('Dashboard')],
    ['account.html', trackedPage('Account', ACCOUNT_EXTRA)],
  ] as const) {
    writeFileSync(join(siteDir, file), html);
  }
  [browser, mautic, other] = await Promise.all([
    launchChromium(),
    startStandin({ host: '127.0.0.1', port: 0, mauticVersion: '5.1.0', api: { clients: [API_CLIENT] } }),
    startSiteServer(),
  ]);
});

/** The demo backend (proxy at /mt, toy login) in front of `target` (default: this file's stand-in). */
function startDemo(options: Partial<DemoSiteOptions> = {}): Promise<DemoSite> {
  return startDemoSite({
    port: 0,
    siteDir,
    distDir: resolve('dist'),
    mauticUrl: mautic.url,
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
    secret: PROXY_SECRET,
    ...options,
  });
}

/**
 * Runs setup-identify against `target` the way a site owner does, then restarts the demo backend
 * with the `identify.history` it printed. Returns that config.
 */
async function withHistory(target: Standin = mautic): Promise<IdentifyHistoryConfig> {
  const setupProxy = createMauticProxy({ mauticUrl: target.url, secret: PROXY_SECRET, auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret } });
  const { history } = await setupIdentify({ client: setupProxy.rest!, mauticUrl: target.url });
  await demo?.close();
  demo = await startDemo({ mauticUrl: target.url, identifyHistory: history });
  return history;
}

/** Logs `page` in as `email` through the account page's form; returns the identify settlements. */
async function login(page: Page, email: string) {
  await page.fill('#email', email);
  await page.click('#submit');
  await waitForLog(page, 'identify');
  await settle();
  return settlements(await readLog(page), 'identify');
}

/** API calls (no token requests, no 401 that makes the proxy fetch one) recorded after `from`. */
function apiCallsAfter(from: number, target: Standin = mautic): string[] {
  return target.apiCalls.filter((c) => c.seq > from && c.operation !== 'token' && c.operation !== 'auth').map((c) => `${c.method} ${c.path}`);
}
const lastApiSeq = (target: Standin = mautic): number => target.apiCalls.at(-1)?.seq ?? 0;

beforeEach(async () => {
  mautic.reset();
  // A fresh backend per test: its identify rate limiter (10/min per IP, all tests come from
  // 127.0.0.1) and its cached OAuth token (the stand-in's reset forgets tokens) start clean.
  demo = await startDemo();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)));
  await demo?.close();
  demo = undefined;
});

afterAll(async () => {
  await Promise.all([browser?.close(), mautic?.close(), other?.close()]);
  if (siteDir) rmSync(siteDir, { recursive: true, force: true });
});

/** `http://site.test:<demo port><path>`: the website, with the proxy on the same origin. */
function site(path: string): string {
  return `http://site.test:${demo!.port}${path}`;
}

async function open(): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const pageErrors: string[] = [];
  context.on('weberror', (error) => pageErrors.push(String(error.error())));
  return { context, page: await context.newPage(), pageErrors };
}

/** Opens `path` and waits until its pageview was delivered (through the proxy) and recorded. */
async function view(page: Page, path: string, target: Standin = mautic): Promise<Hit> {
  const before = target.hits.length;
  await page.goto(site(path));
  await waitForLog(page, 'delivered');
  const hits = await waitForHits(target, before + 1);
  const hit = hits[before]!;
  expect(hit.pageUrl).toBe(site(path));
  return hit;
}

/** Runs `mt('identify', input, __cb(tag))` in the page and returns its settlements after a settle. */
async function identifyInPage(page: Page, tag: string, input: Record<string, unknown>) {
  await page.evaluate(
    ({ tag, input }) => {
      const w = window as unknown as { mt: (...a: unknown[]) => void; __cb: (t: string) => unknown };
      w.mt('identify', input, w.__cb(tag));
    },
    { tag, input },
  );
  await waitForLog(page, tag);
  await settle();
  return settlements(await readLog(page), tag);
}

/** Every REST-side request (token or API) the stand-in received. */
function restRequests(): string[] {
  return mautic.requests
    .filter((r) => r.route === 'api' || r.path.startsWith('/oauth') || r.path.startsWith('/api'))
    .map((r) => `${r.method} ${r.path}`);
}

/** A raw HTTP request to the demo backend (node:http, so Host and Origin are ours to choose). */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: demo!.port, method, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end(body);
  });
}

/** The proxy set exactly one X-Forwarded-For (the socket's 127.0.0.1) and no other IP header. */
function expectProxyIpHeaders(hit: Hit): void {
  expect(hit.headers['x-forwarded-for']).toBe('127.0.0.1');
  expect(hit.ip).toBe('127.0.0.1');
  for (const name of CLIENT_IP_HEADERS) {
    if (name !== 'x-forwarded-for') expect(hit.headers[name], name).toBeUndefined();
  }
  expect(JSON.stringify(hit.headers)).not.toContain(SPOOFED);
}

test('point 1, journey: anonymous pageviews, login, identify → the contact with the earlier hits gets the email, later hits too', async () => {
  const { context, page, pageErrors } = await open();
  const email = 'jane.doe@example.com';

  // 1. Two anonymous pageviews, relayed through the proxy on the site's own origin.
  const first = await view(page, '/p1.html');
  const contactId = first.contactId;
  expect(contactId).toEqual(expect.any(Number));
  const second = await view(page, '/p2.html');
  expect(second.contactId).toBe(contactId);
  expect(second.deviceId).toBe(first.deviceId);
  for (const hit of [first, second]) {
    expect(hit.via).toBe('post');
    expect(hit.userAgent).toContain('Chrome'); // the real browser's User-Agent is passed on
    expectProxyIpHeaders(hit);
  }
  expect(mautic.contact(contactId!)!.fields.email).toBeUndefined();
  expect(restRequests()).toEqual([]);

  // 2. Log in on the site; the page identifies the visitor with the backend's token.
  const accountHit = await view(page, '/account.html');
  expect(accountHit.contactId).toBe(contactId);
  // A request cut off before its answer was read shows as cancelled in DevTools (requestfailed).
  const cutOff: string[] = [];
  page.on('requestfailed', (request) => cutOff.push(`${request.url()} ${request.failure()?.errorText ?? ''}`));
  await page.fill('#email', email);
  await page.click('#submit');
  await waitForLog(page, 'identify');
  await settle();
  const outcome = settlements(await readLog(page), 'identify');
  expect(outcome.map((e) => e.kind)).toEqual(['onload']);
  expect(cutOff.filter((line) => line.includes('/identify'))).toEqual([]);

  // The bound contact (the one with the anonymous hits) was edited; nothing was created.
  const calls = apiCallsAfter(0); // no API call before the login (checked above)
  expect(calls).toEqual(['GET /api/contacts', `GET /api/contacts/${contactId}`, `PATCH /api/contacts/${contactId}/edit`]);
  console.log(`[issue 9] case 1 API calls: ${calls.join(', ')}`);
  const edits = mautic.apiCalls.filter((c) => c.operation === 'contact.edit');
  expect(edits.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`PATCH /api/contacts/${contactId}/edit 200`]);
  expect(mautic.apiCalls.filter((c) => c.operation === 'contact.new')).toEqual([]);
  expect(mautic.contacts.map((c) => c.id)).toEqual([contactId]);
  expect(mautic.contact(contactId!)!.fields.email).toBe(email);
  expect(mautic.hits.map((h) => h.contactId)).toEqual([contactId, contactId, contactId]);

  // 3. A later pageview belongs to the same, now identified, contact.
  const later = await view(page, '/p3.html');
  expect(later.contactId).toBe(contactId);
  expectProxyIpHeaders(later);
  expect(mautic.contact(contactId!)!.fields.email).toBe(email);

  // 4. Cookies: the binding is HttpOnly and scoped to the proxy; Mautic's ids are first-party.
  const cookies = await context.cookies(site('/mt/identify'));
  const binding = cookies.find((c) => c.name === BINDING_COOKIE);
  expect(binding).toMatchObject({ domain: 'site.test', path: '/mt', httpOnly: true, sameSite: 'Lax' });
  expect(binding!.value.startsWith(`v1.${contactId}.`)).toBe(true);
  for (const name of ['mtc_id', 'mautic_device_id']) {
    const cookie = cookies.find((c) => c.name === name);
    expect(cookie, name).toMatchObject({ domain: 'site.test', path: '/', httpOnly: false });
  }
  expect(cookies.find((c) => c.name === 'mtc_id')!.value).toBe(String(contactId));
  expect(cookies.find((c) => c.name === 'mautic_device_id')!.value).toBe(first.deviceId);
  // Scripts on a page inside the cookie's path see Mautic's cookies but never the binding.
  await context.addCookies([{ name: 'path_probe', value: '1', domain: 'site.test', path: '/mt' }]);
  await page.goto(site('/mt/not-a-route'));
  const visible = await page.evaluate(() => document.cookie);
  expect(visible).toContain(`mtc_id=${contactId}`);
  expect(visible).toContain(`mautic_device_id=${first.deviceId}`);
  expect(visible).toContain('path_probe=1'); // control: this document is inside the binding's path
  expect(visible).not.toContain(BINDING_COOKIE);
  expect(pageErrors).toEqual([]);
});

for (const survivor of ['tracked', 'found', 'oldest'] as const) {
  test(`point 2, returning customer on a new browser (formMergeSurvivor '${survivor}'): later hits count for A in Mautic, B's hits, UTM and tags end on A, A keeps its data`, async () => {
    // Each survivor rule is a Mautic version of its own (docs/protocol.md §12): a stand-in per rule.
    const target = await startStandin({ host: '127.0.0.1', port: 0, mauticVersion: '5.1.0', formMergeSurvivor: survivor, api: { clients: [API_CLIENT] } });
    try {
      const history = await withHistory(target);
      expect(history.survivor).toBe(survivor);
      const [merges0, posts0] = [target.merges.length, target.formSubmissions.length];
      const email = 'sam@example.com';
      // Earlier, on a laptop: browsed and logged in (case 1). A gets Do-Not-Contact and a company too.
      const laptop = await open();
      const laptopHit = await view(laptop.page, '/account.html', target);
      expect((await login(laptop.page, email)).map((e) => e.kind)).toEqual(['onload']);
      const a = laptopHit.contactId!;
      const admin = createMauticProxy({ mauticUrl: target.url, secret: PROXY_SECRET, auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret } }).rest!;
      await admin.addDoNotContact(a, 'email', { reason: 3, comments: 'asked' });
      await admin.editContact(a, { company: 'Acme' });

      // Now, on a phone: an ad click with UTM tags, tagged, a second page, then the same login.
      const phone = await open();
      const adHit = await view(phone.page, '/p1.html?utm_source=ads&utm_campaign=winter', target);
      const b = adHit.contactId!;
      expect(b).not.toBe(a);
      await view(phone.page, '/account.html', target);
      const beforeTagged = target.hits.length;
      await phone.page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('send', 'pageview', { tags: 'prelogin' }));
      await waitForHits(target, beforeTagged + 1);
      const bHits = target.hits.filter((h) => h.contactId === b).map((h) => h.seq);
      expect(bHits.length).toBeGreaterThanOrEqual(3);
      const from = lastApiSeq(target);
      const requestsFrom = target.requests.length;
      expect((await login(phone.page, email)).map((e) => e.kind)).toEqual(['onload']);
      const calls = apiCallsAfter(from, target);
      // Every call to Mautic, REST and the public form post, in order (token requests aside).
      const sequence = target.requests.slice(requestsFrom)
        .filter((r) => (r.route === 'api' && !r.path.startsWith('/oauth')) || r.route === 'form')
        .map((r) => `${r.method} ${r.path}`);
      const deviceId = target.devices.find((d) => d.trackingId === adHit.deviceId)!.id;
      expect(sequence).toEqual(
        survivor === 'found'
          ? // The form finds A while the device still tracks B; Mautic's merge moves B's device to A.
            ['GET /api/contacts', `GET /api/contacts/${b}`, `POST /api/contacts/${a}/utm/add`, `PATCH /api/contacts/${a}/edit`, 'POST /form/submit', `GET /api/contacts/${a}`, `GET /api/contacts/${b}`, 'GET /api/stats/lead_devices']
          : ['GET /api/contacts', `GET /api/contacts/${b}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${deviceId}/edit`, `POST /api/contacts/${a}/utm/add`, `PATCH /api/contacts/${b}/edit`, 'POST /form/submit', `GET /api/contacts/${a}`, `GET /api/contacts/${b}`],
      );

      // A survived under its id with its Do-Not-Contact entry, company and UTM rows; B is merged into it.
      expect(target.merges.slice(merges0)).toEqual([expect.objectContaining({ winnerId: a, loserId: b, via: 'form' })]);
      expect(target.formSubmissions.slice(posts0)).toHaveLength(1);
      expect(target.contact(b)).toBeUndefined();
      const kept = target.contact(a)!;
      expect(kept.fields).toMatchObject({ email, company: 'Acme' });
      expect(kept.doNotContact).toEqual([expect.objectContaining({ channel: 'email', reason: 3 })]);
      expect(kept.utm.map((u) => u.utm_campaign)).toContain('winter');
      expect(kept.tags).toContain('prelogin');
      expect(target.hits.filter((h) => bHits.includes(h.seq)).every((h) => h.contactId === a)).toBe(true);
      // No Mautic setting was weakened: email is still not publicly updatable, and no call got a 422.
      expect(target.apiCalls.filter((c) => c.status === 422)).toEqual([]);
      expect(calls).toContain('GET /api/stats/lead_devices');

      // This browser's later hits are A's in Mautic's own attribution (the unchanged device cookie).
      const later = await view(phone.page, '/p3.html', target);
      expect(later.contactId).toBe(a);
      expect(later.deviceId).toBe(adHit.deviceId);
      const binding = (await phone.context.cookies(site('/mt/identify'))).find((c) => c.name === BINDING_COOKIE)!;
      expect(binding.value.startsWith(`v1.${a}.${adHit.deviceId}.`)).toBe(true);
      expect(laptop.pageErrors.concat(phone.pageErrors)).toEqual([]);
      console.log(`[issue 9] case 2 (${survivor}) calls to Mautic: ${sequence.join(', ')}`);
    } finally {
      await demo?.close();
      demo = await startDemo();
      await target.close();
    }
  });
}

test('point 2 without the history merge (history: false): later hits still count for A; B keeps its own history', async () => {
  const email = 'known@example.com';
  const admin = createMauticProxy({ mauticUrl: mautic.url, secret: PROXY_SECRET, auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret } }).rest!;
  const a = (await admin.createOrUpdateContact({ email, lastname: 'Known' })).contact.id;
  const { page, pageErrors } = await open();
  const first = await view(page, '/account.html');
  const b = first.contactId!;
  const from = lastApiSeq();
  expect((await login(page, email)).map((e) => e.kind)).toEqual(['onload']);
  const device = mautic.devices.find((d) => d.trackingId === first.deviceId)!;
  const calls = apiCallsAfter(from);
  expect(calls).toEqual(['GET /api/contacts', `GET /api/contacts/${b}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${device.id}/edit`]);
  console.log(`[issue 9] case 2 (history: false) API calls: ${calls.join(', ')}`);
  expect(device.contactId).toBe(a);
  expect(mautic.merges).toEqual([]);
  expect(mautic.formSubmissions).toEqual([]);
  expect(mautic.contact(b)).toBeDefined();
  expect(mautic.contact(a)!.fields.lastname).toBe('Known');
  const later = await view(page, '/p2.html');
  expect(later.contactId).toBe(a);
  expect(mautic.hits.filter((h) => h.contactId === b).map((h) => h.seq)).toEqual([first.seq]);
  expect(pageErrors).toEqual([]);
});

test('point 3, shared browser: identified as P, then A logs in → later hits count for A; P is never merged and keeps its contact and history', async () => {
  const admin = createMauticProxy({ mauticUrl: mautic.url, secret: PROXY_SECRET, auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret } }).rest!;
  await withHistory(); // even with the history merge on, two people are never merged
  const a = (await admin.createOrUpdateContact({ email: 'alice@example.com' })).contact.id;
  const [merges0, posts0] = [mautic.merges.length, mautic.formSubmissions.length];
  const { page, pageErrors } = await open();
  const first = await view(page, '/account.html');
  const p = first.contactId!;
  expect((await login(page, 'pat@example.com')).map((e) => e.kind)).toEqual(['onload']);
  await view(page, '/p1.html');
  const pHits = mautic.hits.filter((h) => h.contactId === p).map((h) => h.seq);
  await view(page, '/account.html');
  await page.evaluate(() => ((window as unknown as { __log: unknown[] }).__log.length = 0));
  const from = lastApiSeq();
  expect((await login(page, 'alice@example.com')).map((e) => e.kind)).toEqual(['onload']);
  const device = mautic.devices.find((d) => d.trackingId === first.deviceId)!;
  const calls = apiCallsAfter(from);
  expect(calls).toEqual(['GET /api/contacts', `GET /api/contacts/${p}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${device.id}/edit`]);
  expect(device.contactId).toBe(a);
  expect(mautic.merges.slice(merges0)).toEqual([]);
  expect(mautic.formSubmissions.slice(posts0)).toEqual([]);
  expect(mautic.contact(p)!.fields.email).toBe('pat@example.com');
  expect(mautic.hits.filter((h) => h.contactId === p).map((h) => h.seq)).toEqual(expect.arrayContaining(pHits));
  const later = await view(page, '/p3.html');
  expect(later.contactId).toBe(a);
  expect(pageErrors).toEqual([]);
  console.log(`[issue 9] case 3 API calls: ${calls.join(', ')}`);
});

test('point 4, the same person again: onload, nothing changes, at most two API calls', async () => {
  const { page, pageErrors } = await open();
  const first = await view(page, '/account.html');
  expect((await login(page, 'same@example.com')).map((e) => e.kind)).toEqual(['onload']);
  await view(page, '/account.html');
  // After the page's own hit, which touches the contact's activity dates.
  const before = JSON.stringify(mautic.contact(first.contactId!));
  const contacts = mautic.contacts.length;
  const from = lastApiSeq();
  expect((await login(page, 'same@example.com')).map((e) => e.kind)).toEqual(['onload']);
  const calls = apiCallsAfter(from);
  expect(calls.length).toBeLessThanOrEqual(2);
  expect(calls).toEqual(['GET /api/contacts']);
  const after = mautic.contact(first.contactId!)!;
  expect(JSON.stringify(after)).toBe(before);
  expect(mautic.contacts).toHaveLength(contacts);
  expect(pageErrors).toEqual([]);
  console.log(`[issue 9] case 4 API calls: ${calls.join(', ')}`);
});

test('point 5, two contacts already share the email: the oldest (lowest id) is chosen, deterministically; onload', async () => {
  // Duplicates come from a time when email was not a unique identifier: a stand-in without one.
  const loose = await startStandin({ host: '127.0.0.1', port: 0, uniqueFields: [], api: { clients: [API_CLIENT] } });
  try {
    await demo?.close();
    demo = await startDemo({ mauticUrl: loose.url });
    const admin = createMauticProxy({ mauticUrl: loose.url, secret: PROXY_SECRET, auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret } }).rest!;
    for (const n of [1, 2]) await admin.createOrUpdateContact({ email: 'dup@example.com', firstname: `Dup${n}` });
    const dups = loose.contacts.filter((c) => c.fields.email === 'dup@example.com').map((c) => c.id).sort((x, y) => x - y);
    expect(dups).toHaveLength(2);
    for (const round of [1, 2]) {
      const { page, pageErrors } = await open();
      const first = await view(page, '/account.html', loose);
      const from = lastApiSeq(loose);
      expect((await login(page, 'dup@example.com')).map((e) => e.kind), `round ${round}`).toEqual(['onload']);
      const device = loose.devices.find((d) => d.trackingId === first.deviceId)!;
      expect(device.contactId).toBe(dups[0]);
      // Case 2's calls, for the chosen contact (no history merge configured here).
      const calls = apiCallsAfter(from, loose);
      expect(calls).toEqual(['GET /api/contacts', `GET /api/contacts/${first.contactId}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${device.id}/edit`]);
      if (round === 1) console.log(`[issue 9] case 5 API calls: ${calls.join(', ')}`);
      expect((await view(page, '/p1.html', loose)).contactId).toBe(dups[0]);
      expect(pageErrors).toEqual([]);
    }
    expect(loose.contact(dups[1]!)!.fields.firstname).toBe('Dup2'); // untouched
  } finally {
    await demo?.close();
    demo = await startDemo();
    await loose.close();
  }
});

test('point 6, a token is accepted once: a replay from the same or another browser is 401 with zero upstream calls', async () => {
  const first = await open();
  await view(first.page, '/account.html');
  const issued = await first.page.evaluate(() =>
    (window as unknown as { siteLogin: (e: string) => Promise<{ email: string; token: string }> }).siteLogin('victim@example.com'),
  );
  expect((await identifyInPage(first.page, 'genuine', { email: issued.email, token: issued.token })).map((e) => e.kind)).toEqual(['onload']);
  const requestsBefore = mautic.requests.length;
  // The same browser again, then an attacker's browser that captured the token (an old outside run merged the victim this way).
  const replaySame = await identifyInPage(first.page, 'replay-same', { email: issued.email, token: issued.token });
  const attacker = await open();
  await attacker.page.goto(site('/account.html'));
  await waitForLog(attacker.page, 'delivered');
  const requestsAfterAttackerPageview = mautic.requests.length;
  const replayOther = await identifyInPage(attacker.page, 'replay-other', { email: issued.email, token: issued.token });
  for (const outcome of [replaySame, replayOther]) expect(outcome.map((e) => e.kind)).toEqual(['onerror']);
  const replay = (token: string) =>
    attacker.page.evaluate(async (token) => {
      const r = await fetch('/mt/identify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'victim@example.com', token }) });
      return { status: r.status, body: (await r.json()) as { error: string } };
    }, token);
  expect(await replay(issued.token)).toEqual({ status: 401, body: expect.objectContaining({ error: 'token_used' }) });
  // The same token with its signature spelled differently: the last base64url character carries
  // two unused bits, so three other spellings decode to the same signature bytes. None is a new token.
  const sig = issued.token.slice(issued.token.lastIndexOf('.') + 1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(sig.at(-1)!);
  const respelled = [1, 2, 3].map((flip) => issued.token.slice(0, -1) + alphabet[last ^ flip]);
  expect(respelled.every((t) => t !== issued.token && Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(sig, 'base64url')))).toBe(true);
  for (const token of respelled) expect((await replay(token)).status, token.slice(-3)).toBe(401);
  expect(mautic.requests.length).toBe(requestsAfterAttackerPageview);
  expect(mautic.requests.slice(requestsBefore).every((r) => r.route !== 'api')).toBe(true);
  expect(first.pageErrors.concat(attacker.pageErrors)).toEqual([]);
});

test('point 7, one deadline: with the contacts API hanging, identify settles onerror within timeoutMs', async () => {
  await demo?.close();
  demo = await startDemo({ timeoutMs: 1000 });
  const { page, pageErrors } = await open();
  await view(page, '/account.html');
  // A first identify works and leaves the proxy an access token, so what hangs next is the contacts API itself.
  expect((await login(page, 'jane@example.com')).map((e) => e.kind)).toEqual(['onload']);
  const issued = await page.evaluate(() =>
    (window as unknown as { siteLogin: (e: string) => Promise<{ email: string; token: string }> }).siteLogin('jane@example.com'),
  );
  const requestsBefore = mautic.requests.length;
  mautic.inject({ route: 'api', hang: true });
  try {
    const elapsed = await page.evaluate(async (token) => {
      const started = performance.now();
      const r = await fetch('/mt/identify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'jane@example.com', token }) });
      return { ms: performance.now() - started, status: r.status, error: ((await r.json()) as { error: string }).error };
    }, issued.token);
    expect(elapsed.status).toBe(504);
    expect(elapsed.error).toBe('upstream_timeout');
    expect(elapsed.ms).toBeLessThan(1000 + 500);
    await settle();
    // One call reached Mautic (the search, which never answered) and nothing followed it: no retry past the deadline.
    expect(mautic.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/contacts']);
  } finally {
    mautic.clearInjections();
  }
  expect(pageErrors).toEqual([]);
});

const BASIC = { username: 'api-user', password: 'basic-password-0123' };
const AUTH_FAILURES: Array<{ code: string; message: string; standin: StandinOptions; auth: DemoSiteOptions['auth'] }> = [
  {
    code: 'mautic_invalid_client',
    message: "Mautic rejected the proxy's API client id or secret.",
    standin: { api: { clients: [API_CLIENT] } },
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: 'not-the-secret-0123' },
  },
  {
    code: 'mautic_unauthorized_client',
    message: "The proxy's Mautic API client may not use client_credentials.",
    // A client made by a non-admin user: no client_credentials grant (docs/protocol.md §10.6).
    standin: { api: { clients: [{ ...API_CLIENT, grantTypes: ['authorization_code', 'refresh_token'] }] } },
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
  },
  {
    code: 'mautic_api_disabled',
    message: 'The Mautic API is disabled.',
    standin: { api: { enabled: false, clients: [API_CLIENT] } },
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
  },
  {
    code: 'mautic_basic_auth_disabled',
    message: 'HTTP basic auth is disabled in Mautic.',
    standin: { api: { basicUsers: [BASIC], basicAuth: false } },
    auth: { type: 'basic', ...BASIC },
  },
];

for (const failure of AUTH_FAILURES) {
  test(`point 7, auth failures: ${failure.code.slice('mautic_'.length)} gets its own error code, not "unreachable"`, async () => {
    const target = await startStandin({ host: '127.0.0.1', port: 0, ...failure.standin });
    try {
      await demo?.close();
      demo = await startDemo({ mauticUrl: target.url, auth: failure.auth });
      const { page, pageErrors } = await open();
      await view(page, '/account.html', target);
      expect((await login(page, 'jane@example.com')).map((e) => e.kind)).toEqual(['onerror']);
      const issued = await page.evaluate(() =>
        (window as unknown as { siteLogin: (e: string) => Promise<{ email: string; token: string }> }).siteLogin('jane@example.com'),
      );
      const answer = await page.evaluate(async (token) => {
        const r = await fetch('/mt/identify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'jane@example.com', token }) });
        return { status: r.status, body: (await r.json()) as { error: string; message: string } };
      }, issued.token);
      expect(answer).toEqual({ status: 502, body: { error: failure.code, message: failure.message } });
      expect(pageErrors).toEqual([]);
    } finally {
      await demo?.close();
      demo = await startDemo();
      await target.close();
    }
  });
}

/** Runs in the page: a same-origin hit carrying every client IP header Mautic reads, spoofed. */
async function spoofedHit({ spoofed, path }: { spoofed: string; path: string }): Promise<number> {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'include',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Requested-With': 'XMLHttpRequest',
      'X-Forwarded-For': spoofed,
      'Client-IP': spoofed,
      'X-Forwarded': `for=${spoofed}`,
      'X-Cluster-Client-IP': spoofed,
      'Forwarded-For': spoofed,
      Forwarded: `for=${spoofed}`,
      'X-Real-IP': spoofed,
    },
    body: `page_title=spoof&page_url=${encodeURIComponent(location.href + '#spoof')}`,
  });
  return response.status;
}

test('a page script cannot pass off another IP: spoofed IP headers on a same-origin hit never reach Mautic', async () => {
  const { page, pageErrors } = await open();
  await view(page, '/p1.html');
  // Same origin, so the page may set any non-forbidden header on its own request to the proxy.
  const status = await page.evaluate(spoofedHit, { spoofed: SPOOFED, path: '/mt/mtc/event' });
  expect(status).toBe(200);
  const hits = await waitForHits(mautic, 2);
  const spoofHit = hits[1]!;
  expect(spoofHit.title).toBe('spoof');
  expectProxyIpHeaders(spoofHit);

  // Control: the browser really sends these headers — the same request made same-origin to
  // Mautic itself (no proxy in between) is attributed to the spoofed address.
  await page.goto(`http://mautic.test:${mautic.port}/mtc.js`);
  expect(await page.evaluate(spoofedHit, { spoofed: SPOOFED, path: '/mtc/event' })).toBe(200);
  const [, , control] = await waitForHits(mautic, 3);
  expect(control!.ip).toBe(SPOOFED);
  expect(pageErrors).toEqual([]);
});

test('a client calling the proxy directly cannot spoof its IP either (X-Forwarded-For from Node)', async () => {
  const response = await fetch(`http://127.0.0.1:${demo!.port}/mt/mtc/event`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Requested-With': 'XMLHttpRequest',
      'X-Forwarded-For': `${SPOOFED}, 198.51.100.1`,
      'Client-IP': SPOOFED,
      Forwarded: `for=${SPOOFED}`,
      'X-Real-IP': SPOOFED,
    },
    body: 'page_title=direct&page_url=http%3A%2F%2Fsite.test%2Fdirect',
  });
  expect(response.status).toBe(200);
  const [hit] = await waitForHits(mautic, 1);
  expect(hit!.title).toBe('direct');
  expectProxyIpHeaders(hit!);
  expect(JSON.stringify(hit!.headers)).not.toContain('198.51.100.1');

  // Control: the same request straight to Mautic is attributed to the spoofed address.
  await fetch(`${mautic.url}/mtc/event`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': `${SPOOFED}, 198.51.100.1` },
    body: 'page_title=control&page_url=http%3A%2F%2Fsite.test%2Fcontrol',
  });
  const [, control] = await waitForHits(mautic, 2);
  expect(control!.ip).toBe(SPOOFED);
});

test('identify with a wrong token (another user\'s, forged, expired) → onerror once each, no REST call', async () => {
  const { page, pageErrors } = await open();
  const hit = await view(page, '/account.html');
  const victim = 'victim@example.com';
  // The attacker logs in as themselves and gets a genuine token — for their own email.
  const own = await page.evaluate(() =>
    (window as unknown as { siteLogin: (e: string) => Promise<{ email: string; token: string }> }).siteLogin('mallory@evil.test'),
  );
  expect(own.token).toMatch(/^v2\./);
  const expired = await mintIdentityToken({ email: victim, secret: PROXY_SECRET, ttlSeconds: 60, now: Date.now() - 3_600_000 });
  const forged = await mintIdentityToken({ email: victim, secret: randomBytes(32).toString('hex') });

  for (const [tag, token] of [['someone-elses', own.token], ['forged', forged], ['expired', expired]] as const) {
    const outcome = await identifyInPage(page, tag, { email: victim, token });
    expect(outcome.map((e) => e.kind), tag).toEqual(['onerror']);
    expect(outcome[0]!.isError, tag).toBe(true);
  }
  expect(restRequests()).toEqual([]);
  expect(mautic.apiCalls).toEqual([]);
  expect(mautic.contact(hit.contactId!)!.fields.email).toBeUndefined();
  expect(mautic.contacts.some((c) => c.fields.email === victim)).toBe(false);
  expect(pageErrors).toEqual([]);
});

test('identify without a token (token mode) → onerror once, no REST call', async () => {
  const { page, pageErrors } = await open();
  const hit = await view(page, '/account.html');
  const missing = await identifyInPage(page, 'no-token', { email: 'jane@example.com' });
  expect(missing.map((e) => e.kind)).toEqual(['onerror']);
  const empty = await identifyInPage(page, 'empty-token', { email: 'jane@example.com', token: '' });
  expect(empty.map((e) => e.kind)).toEqual(['onerror']);
  expect(restRequests()).toEqual([]);
  expect(mautic.contact(hit.contactId!)!.fields.email).toBeUndefined();
  expect(pageErrors).toEqual([]);
});

test('a cross-site page (other.test) cannot make the proxy identify the visitor, even with a valid token', async () => {
  const { page, pageErrors } = await open();
  const hit = await view(page, '/account.html'); // the visitor has a binding cookie on site.test
  // A genuine token, for the attacker's own address (login CSRF: attach it to the visitor's contact).
  const token = await mintIdentityToken({ email: 'mallory@evil.test', secret: PROXY_SECRET });
  other.setPage('/evil', sitePage({ title: 'Evil', instrument: false }));
  await page.goto(other.url('/evil', 'other.test'));
  const results = await page.evaluate(
    async ({ target, token }) => {
      const body = JSON.stringify({ email: 'mallory@evil.test', token });
      const out: string[] = [];
      try {
        const r = await fetch(target, {
          method: 'POST',
          credentials: 'include',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        out.push(`cors: status ${r.status}`);
      } catch (error) {
        out.push(`cors: ${(error as Error).name}`);
      }
      try {
        // A "simple" request needs no preflight; the browser sends it but hides the answer.
        const r = await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include', body });
        out.push(`no-cors: ${r.type}`);
      } catch (error) {
        out.push(`no-cors: ${(error as Error).name}`);
      }
      return out;
    },
    { target: site('/mt/identify'), token },
  );
  expect(results).toEqual(['cors: TypeError', 'no-cors: opaque']);

  // What the browser was told, seen from a client that can read it: no CORS grant, and an
  // identify with a foreign Origin is refused even when it carries the binding and a valid token.
  const binding = (await page.context().cookies(site('/mt/identify'))).find((c) => c.name === BINDING_COOKIE);
  expect(binding).toBeDefined();
  const host = `site.test:${demo!.port}`;
  const foreign = `http://other.test:${other.port}`;
  const preflight = await rawRequest('OPTIONS', '/mt/identify', {
    Host: host,
    Origin: foreign,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'content-type',
  });
  expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
  const direct = await rawRequest(
    'POST',
    '/mt/identify',
    { Host: host, Origin: foreign, 'Content-Type': 'application/json', Cookie: `${BINDING_COOKIE}=${binding!.value}` },
    JSON.stringify({ email: 'mallory@evil.test', token }),
  );
  expect(direct.status).toBe(403);
  expect(JSON.parse(direct.body)).toMatchObject({ error: 'forbidden_origin' });

  await settle();
  expect(restRequests()).toEqual([]);
  expect(mautic.contact(hit.contactId!)!.fields.email).toBeUndefined();
  expect(mautic.contacts.some((c) => c.fields.email === 'mallory@evil.test')).toBe(false);
  expect(pageErrors).toEqual([]);
});

test('a tampered binding cookie is not trusted: identify never touches the contact it names', async () => {
  // The victim browses first: a contact with a low, guessable id.
  const victim = await open();
  const victimHit = await view(victim.page, '/p1.html');
  const victimId = victimHit.contactId!;

  // The attacker browses, then rewrites their binding to name the victim's contact.
  const attacker = await open();
  const attackerHit = await view(attacker.page, '/account.html');
  expect(attackerHit.contactId).not.toBe(victimId);
  const cookies = await attacker.context.cookies(site('/mt/identify'));
  const genuine = cookies.find((c) => c.name === BINDING_COOKIE)!;
  const parts = genuine.value.split('.');
  expect(parts[0]).toBe('v1');
  expect(parts[1]).toBe(String(attackerHit.contactId));
  const nowS = Math.floor(Date.now() / 1000);
  const tampered = [
    // Same signature, victim's id.
    ['swapped-id', [parts[0], String(victimId), ...parts.slice(2)].join('.')],
    // Made up from scratch: right shape, no valid signature.
    ['fabricated', `v1.${victimId}..${nowS}.${'A'.repeat(43)}`],
  ] as const;

  const email = 'mallory@evil.test';
  for (const [tag, value] of tampered) {
    await attacker.context.addCookies([
      { name: BINDING_COOKIE, value, domain: 'site.test', path: '/mt', httpOnly: true, sameSite: 'Lax' },
    ]);
    const login = await attacker.page.evaluate(
      (e) => (window as unknown as { siteLogin: (e: string) => Promise<{ email: string; token: string }> }).siteLogin(e),
      email,
    );
    const outcome = await identifyInPage(attacker.page, tag, { email: login.email, token: login.token });
    // With no usable binding, identify falls back to create-or-update by email.
    expect(outcome.map((e) => e.kind), tag).toEqual(['onload']);
  }

  expect(mautic.apiCalls.filter((c) => c.contactId === victimId || c.path.includes(`/contacts/${victimId}/`) || c.path === `/api/contacts/${victimId}`)).toEqual([]);
  expect(mautic.apiCalls.filter((c) => c.operation === 'contact.edit')).toEqual([]);
  expect(mautic.contact(victimId)).toBeDefined();
  expect(mautic.contact(victimId)!.fields.email).toBeUndefined();
  expect(mautic.contact(victimId)!.mergedFrom).toEqual([]);
  const mallory = mautic.contacts.filter((c) => c.fields.email === email);
  expect(mallory).toHaveLength(1);
  expect(mallory[0]!.id).not.toBe(victimId);
  // The victim's hits still belong to the victim.
  expect(mautic.hits.filter((h) => h.contactId === victimId).map((h) => h.seq)).toEqual([victimHit.seq]);
  // The proxy replaced the forged cookie with a genuine binding to the attacker's own contact.
  const rebound = (await attacker.context.cookies(site('/mt/identify'))).find((c) => c.name === BINDING_COOKIE)!;
  expect(rebound.value.startsWith(`v1.${mallory[0]!.id}.`)).toBe(true);
  expect(victim.pageErrors.concat(attacker.pageErrors)).toEqual([]);
});

/**
 * A framework route handler's view of the world (Next.js `next start -H 127.0.0.1`): the proxy
 * gets Web Requests whose URL the framework built from its own config (`http://localhost:<port>`),
 * while the browser used another host. Pages, a toy login and `proxy.handle` on one server.
 */
async function startRouteHandlerSite(): Promise<{ port: number; seenUrls: string[]; close(): Promise<void> }> {
  const proxy = createMauticProxy({
    mauticUrl: mautic.url,
    secret: PROXY_SECRET,
    script: new Uint8Array(readFileSync(resolve('dist/mtc.js'))),
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
    identify: { history: false }, // default allowedOrigins: the origin the browser used
  });
  const seenUrls: string[] = [];
  let port = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = req.url ?? '/';
        if (path.startsWith('/mt/')) {
          const headers = new Headers();
          for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
          const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
          const request = new Request(`http://localhost:${port}${path}`, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
          seenUrls.push(request.url);
          const response = await proxy.handle(request, { clientIp: '127.0.0.1' });
          const out: string[] = [];
          response.headers.forEach((v, k) => k !== 'set-cookie' && out.push(k, v));
          for (const c of response.headers.getSetCookie()) out.push('set-cookie', c);
          res.writeHead(response.status, out);
          res.end(Buffer.from(await response.arrayBuffer()));
          return;
        }
        if (path === '/login') {
          const { email } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { email: string };
          const token = await mintIdentityToken({ email, secret: PROXY_SECRET });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ email, token }));
          return;
        }
        const page = readFileSync(join(siteDir, path.replace(/^\//, '').replace(/\?.*$/, '') || 'account.html'));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page);
      })().catch(() => {
        if (!res.headersSent) res.writeHead(404);
        res.end();
      });
    });
  });
  const local = await listenLocal(server);
  port = local.port;
  return { port, seenUrls, close: local.close };
}

test('point 8, a framework route handler whose request.url says localhost accepts identify from its own pages', async () => {
  const app = await startRouteHandlerSite();
  try {
    const { page, pageErrors } = await open();
    const before = mautic.hits.length;
    await page.goto(`http://site.test:${app.port}/account.html`);
    await waitForLog(page, 'delivered');
    const [hit] = (await waitForHits(mautic, before + 1)).slice(before);
    expect((await login(page, 'next@example.com')).map((e) => e.kind)).toEqual(['onload']);
    expect(mautic.contact(hit!.contactId!)!.fields.email).toBe('next@example.com');
    // The proxy saw the framework's URL, not the one the browser used: the Host header decided.
    expect(app.seenUrls.some((u) => u.startsWith(`http://localhost:${app.port}/mt/identify`))).toBe(true);
    // Still only this site: a request claiming another Origin is refused.
    const foreign = await rawRequestTo(app.port, 'POST', '/mt/identify', {
      Host: `site.test:${app.port}`,
      Origin: `http://other.test:${app.port}`,
      'Content-Type': 'application/json',
    }, JSON.stringify({ email: 'x@example.com', token: await mintIdentityToken({ email: 'x@example.com', secret: PROXY_SECRET }) }));
    expect(foreign.status).toBe(403);
    expect(pageErrors).toEqual([]);
  } finally {
    await app.close();
  }
});

function rawRequestTo(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** Runs `dist/cli.mjs dev` on a free port; resolves with what it printed once it is up. */
async function startDevCli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; url: string; clientId: string; clientSecret: string; stop(): Promise<number | null> }> {
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('MAUTIC_')) delete clean[key];
  const child = spawn(process.execPath, ['dist/cli.mjs', 'dev', '--port', '0', ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`dev did not start: ${stdout}`)), 20_000);
    child.stdout.on('data', () => stdout.includes('Press Ctrl-C to stop.') && (clearTimeout(timer), done()));
    child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`dev exited ${code}: ${stdout}`))));
  });
  const pick = (name: string): string => new RegExp(`${name}=(\\S+)`).exec(stdout)?.[1] ?? '';
  return {
    stdout,
    url: pick('MAUTIC_URL'),
    clientId: pick('MAUTIC_CLIENT_ID'),
    clientSecret: pick('MAUTIC_CLIENT_SECRET'),
    stop: async () => (child.kill('SIGTERM'), exited),
  };
}

test('point 9, `mautic-tracker dev` starts with an API client it prints, so a site\'s proxy can identify against it', async () => {
  const dev = await startDevCli([]);
  try {
    expect(dev.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.clientId).toBe('mautic-tracker-dev');
    expect(dev.clientSecret).toMatch(/^[0-9a-f]{48}$/);
    // It also set up the history merge on itself and printed the config line for a proxy.
    const line = /identify: \{ history: \{ field: '(\w+)', formId: (\d+), survivor: '(\w+)', mauticVersion: '([\w.]+)' \} \}/.exec(dev.stdout);
    expect(line, dev.stdout).not.toBeNull();
    const history = { field: line![1]!, formId: Number(line![2]), survivor: line![3] as 'tracked', mauticVersion: line![4]! };
    expect(history.survivor).toBe('tracked');
    await demo?.close();
    demo = await startDemo({ mauticUrl: dev.url, auth: { type: 'oauth2', clientId: dev.clientId, clientSecret: dev.clientSecret }, identifyHistory: history });
    type Snapshot = { contacts: Array<{ id: number; fields: Record<string, string> }>; hits: Array<{ contactId: number | null }>; apiCalls: Array<{ caller: string | null }> };
    const snapshot = async (): Promise<Snapshot> => (await (await fetch(`${dev.url}/_dashboard/export.json`)).json()) as Snapshot;
    const hitCount = async (): Promise<number> => (await snapshot()).hits.length;

    const laptop = await open();
    let before = await hitCount();
    await laptop.page.goto(site('/account.html'));
    await waitForLog(laptop.page, 'delivered');
    await expect.poll(hitCount, { timeout: ARRIVES_MS }).toBeGreaterThan(before);
    expect((await login(laptop.page, 'dev@example.com')).map((e) => e.kind)).toEqual(['onload']);
    let s = await snapshot();
    const known = s.contacts.find((c) => c.fields.email === 'dev@example.com')!;
    expect(known).toBeDefined();
    expect(s.apiCalls.some((c) => c.caller === 'oauth:mautic-tracker-dev')).toBe(true);

    // A second browser of the same person: one contact in the end, the browser counted for it.
    const phone = await open();
    before = await hitCount();
    await phone.page.goto(site('/p1.html'));
    await waitForLog(phone.page, 'delivered');
    await expect.poll(hitCount, { timeout: ARRIVES_MS }).toBeGreaterThan(before);
    const anonymous = (await snapshot()).hits.at(-1)!.contactId;
    expect(anonymous).not.toBe(known.id);
    await phone.page.goto(site('/account.html'));
    await waitForLog(phone.page, 'delivered');
    expect((await login(phone.page, 'dev@example.com')).map((e) => e.kind)).toEqual(['onload']);
    s = await snapshot();
    expect(s.contacts.filter((c) => c.fields.email === 'dev@example.com').map((c) => c.id)).toEqual([known.id]);
    expect(s.contacts.some((c) => c.id === anonymous)).toBe(false);
    before = s.hits.length;
    await phone.page.goto(site('/p2.html'));
    await waitForLog(phone.page, 'delivered');
    await expect.poll(hitCount, { timeout: ARRIVES_MS }).toBeGreaterThan(before);
    expect((await snapshot()).hits.at(-1)!.contactId).toBe(known.id);
    expect(laptop.pageErrors.concat(phone.pageErrors)).toEqual([]);
  } finally {
    expect(await dev.stop()).toBe(0);
    await demo?.close();
    demo = await startDemo();
  }
});

test('point 9, the API client is settable by flags and by environment variables', async () => {
  const byFlags = await startDevCli(['--api-client-id', 'site-proxy', '--api-client-secret', 'flag-secret-0123456789']);
  expect([byFlags.clientId, byFlags.clientSecret]).toEqual(['site-proxy', 'flag-secret-0123456789']);
  expect(await byFlags.stop()).toBe(0);
  const byEnv = await startDevCli([], { MAUTIC_TRACKER_API_CLIENT_ID: 'env-proxy', MAUTIC_TRACKER_API_CLIENT_SECRET: 'env-secret-0123456789' });
  expect([byEnv.clientId, byEnv.clientSecret]).toEqual(['env-proxy', 'env-secret-0123456789']);
  const token = await fetch(`${byEnv.url}/oauth/v2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=env-proxy&client_secret=env-secret-0123456789',
  });
  expect(token.status).toBe(200);
  expect(await byEnv.stop()).toBe(0);
});
