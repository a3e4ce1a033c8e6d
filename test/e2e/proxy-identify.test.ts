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
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium } from '../support/chromium.js';
import { mauticSnippet, sitePage, startSiteServer, type SiteServer } from '../support/site-server.js';
import { readLog, settle, settlements, waitForHits, waitForLog, type Hit, type Standin } from '../support/e2e-env.js';
import { startStandin } from '../../src/devserver/index.js';
import { startDemoSite, type DemoSite } from '../../src/devserver/demo-site/server.js';
import { CLIENT_IP_HEADERS, mintIdentityToken } from '../../src/server/index.js';

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
    startStandin({ host: '127.0.0.1', port: 0, api: { clients: [API_CLIENT] } }),
    startSiteServer(),
  ]);
});

beforeEach(async () => {
  mautic.reset();
  // A fresh backend per test: its identify rate limiter (10/min per IP, all tests come from
  // 127.0.0.1) and its cached OAuth token (the stand-in's reset forgets tokens) start clean.
  demo = await startDemoSite({
    port: 0,
    siteDir,
    distDir: resolve('dist'),
    mauticUrl: mautic.url,
    auth: { type: 'oauth2', clientId: API_CLIENT.id, clientSecret: API_CLIENT.secret },
    secret: PROXY_SECRET,
  });
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
async function view(page: Page, path: string): Promise<Hit> {
  const before = mautic.hits.length;
  await page.goto(site(path));
  await waitForLog(page, 'delivered');
  const hits = await waitForHits(mautic, before + 1);
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

test('journey: anonymous pageviews, login, identify → the contact with the earlier hits gets the email, later hits too', async () => {
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
  await page.fill('#email', email);
  await page.click('#submit');
  await waitForLog(page, 'identify');
  await settle();
  const outcome = settlements(await readLog(page), 'identify');
  expect(outcome.map((e) => e.kind)).toEqual(['onload']);

  // The bound contact (the one with the anonymous hits) was edited; nothing was created.
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

test('journey, second device: identifying merges the contact known from another browser into this one', async () => {
  const email = 'sam@example.com';
  // Earlier, on a laptop: browsed and logged in.
  const laptop = await open();
  const laptopHit = await view(laptop.page, '/account.html');
  await laptop.page.fill('#email', email);
  await laptop.page.click('#submit');
  expect((await waitForLog(laptop.page, 'identify')).map((e) => e.kind)).toEqual(['onload']);
  const laptopContact = laptopHit.contactId!;
  expect(mautic.contact(laptopContact)!.fields.email).toBe(email);

  // Now, on a phone: anonymous first (a new contact), then the same login.
  const phone = await open();
  const phoneHit = await view(phone.page, '/p1.html');
  const phoneContact = phoneHit.contactId!;
  expect(phoneContact).not.toBe(laptopContact);
  await view(phone.page, '/account.html');
  await phone.page.fill('#email', email);
  await phone.page.click('#submit');
  await waitForLog(phone.page, 'identify');
  await settle();
  expect(settlements(await readLog(phone.page), 'identify').map((e) => e.kind)).toEqual(['onload']);

  // The phone's contact was patched, and Mautic merged the laptop's contact into it.
  expect(mautic.apiCalls.filter((c) => c.operation === 'contact.edit').map((c) => c.path)).toEqual([
    `/api/contacts/${laptopContact}/edit`,
    `/api/contacts/${phoneContact}/edit`,
  ]);
  expect(mautic.contacts.map((c) => c.id)).toEqual([phoneContact]);
  expect(mautic.contact(phoneContact)!.fields.email).toBe(email);
  expect(mautic.contact(phoneContact)!.mergedFrom).toContain(laptopContact);
  expect(mautic.hits.every((h) => h.contactId === phoneContact)).toBe(true);
  expect(laptop.pageErrors.concat(phone.pageErrors)).toEqual([]);
});

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
  expect(own.token).toMatch(/^v1\./);
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
