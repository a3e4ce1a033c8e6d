/**
 * `npm start` end to end: the command it runs (`node dist/cli.mjs demo`, on free ports) starts as a
 * fresh subprocess; Chromium visits every demo page; the dashboard's JSON export and its rendered
 * page both show each hit, event and identification; a screenshot of the dashboard goes to
 * test-results/; SIGINT stops the process with exit code 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium, newWatchedContext } from '../support/chromium.js';
import type { DashboardSnapshot } from '../../src/devserver/index.js';

const ARRIVES_MS = 15_000;
const SCREENSHOT = 'test-results/demo-dashboard.png';

let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: Promise<number | null>;
let browser: Browser;
let context: BrowserContext;
let pageErrors: string[];
/** Demo site and dashboard on distinct test host names, as a real deployment would have them. */
let site: string;
let dashboard: string;
/** The same servers as printed (127.0.0.1), for requests from Node, which cannot resolve *.test. */
let printedSite: string;
let printedDashboard: string;

function onHost(url: string, host: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  return parsed.href;
}

async function snapshot(): Promise<DashboardSnapshot> {
  const response = await fetch(`${printedDashboard}export.json`);
  return (await response.json()) as DashboardSnapshot;
}

/** Polls the export until `pick` finds something; returns it. */
async function waitInExport<T>(what: string, pick: (s: DashboardSnapshot) => T | undefined): Promise<T> {
  let found: T | undefined;
  await expect
    .poll(
      async () => {
        found = pick(await snapshot());
        return found !== undefined;
      },
      { timeout: ARRIVES_MS, message: `waiting for ${what} in the dashboard export` },
    )
    .toBe(true);
  return found as T;
}

const hitsFor = (s: DashboardSnapshot, path: string) => s.hits.filter((h) => new URL(h.url).pathname === path);

beforeAll(async () => {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('MAUTIC_')) delete env[key];
  child = spawn(process.execPath, ['dist/cli.mjs', 'demo', '--port', '0', '--demo-port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start within 20 s:\n${stdout}\n${stderr}`)), 20_000);
    const check = (): void => {
      if (stdout.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited early with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  const demoUrl = /Demo site:\s+(\S+)/.exec(stdout)?.[1];
  const dashboardUrl = /Dashboard:\s+(\S+)/.exec(stdout)?.[1];
  expect(demoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_dashboard\/$/);
  printedSite = demoUrl as string;
  printedDashboard = dashboardUrl as string;
  site = onHost(demoUrl as string, 'site.test');
  dashboard = onHost(dashboardUrl as string, 'mautic.test');

  browser = await launchChromium();
  ({ context, pageErrors } = await newWatchedContext(browser));
  // Every answer the demo's pages and the dashboard get, to catch stray 404s (a favicon, a typo).
  context.on('response', (response) => {
    if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.url()}`);
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const failedResponses: string[] = [];

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(new URL(path, site).href);
  return page;
}

test('the plain page (Mautic\'s unchanged snippet → /mt/mtc.js) records one pageview', async () => {
  const page = await open('/plain.html');
  const hit = await waitInExport('the plain page hit', (s) => hitsFor(s, '/plain.html')[0]);
  expect(hit).toMatchObject({ via: 'post', title: 'Plain site · mautic-tracker demo' });
  expect(hit.params).toMatchObject({ tags: 'demo-plain', counter: '0' });
  await expect.poll(() => page.locator('#log li').first().textContent(), { timeout: ARRIVES_MS }).toContain('delivered');
  await page.close();
});

test('the SPA page sends one pageview per route, with each route\'s title', async () => {
  const page = await open('/spa/');
  await waitInExport('the SPA home pageview', (s) => hitsFor(s, '/spa/')[0]);
  await page.getByRole('link', { name: 'Pricing' }).click();
  await waitInExport('the /spa/pricing pageview', (s) => hitsFor(s, '/spa/pricing')[0]);
  await page.getByRole('link', { name: 'About' }).click();
  const about = await waitInExport('the /spa/about pageview', (s) => hitsFor(s, '/spa/about')[0]);
  expect(about.title).toBe('About · SPA · mautic-tracker demo');
  await page.goBack();
  await expect.poll(async () => hitsFor(await snapshot(), '/spa/pricing').length, { timeout: ARRIVES_MS }).toBe(2);
  const s = await snapshot();
  expect(hitsFor(s, '/spa/pricing')[0]?.title).toBe('Pricing · SPA · mautic-tracker demo');
  expect(hitsFor(s, '/spa/')).toHaveLength(1);
  expect(hitsFor(s, '/spa/about')).toHaveLength(1);
  await page.close();
});

test('the tag-manager page injects the snippet after load and records exactly one pageview', async () => {
  const page = await open('/tag-manager.html');
  await page.waitForSelector('html[data-tag-fired="true"]', { timeout: ARRIVES_MS });
  const hit = await waitInExport('the tag-manager hit', (s) => hitsFor(s, '/tag-manager.html')[0]);
  expect(hit.params.tags).toBe('demo-tag-manager');
  expect(await page.locator('#tag-source').textContent()).toContain("'/mt/mtc.js','mt'");
  // Give a duplicate every chance to show up, then check there is none.
  await page.waitForTimeout(1_000);
  expect(hitsFor(await snapshot(), '/tag-manager.html')).toHaveLength(1);
  await page.close();
});

const email = `jane.${Date.now().toString(36)}@example.com`;

test('logging in identifies the visitor\'s existing contact with a token minted by the demo backend', async () => {
  const page = await open('/login.html');
  const anonymous = await waitInExport('the login page hit', (s) => hitsFor(s, '/login.html')[0]);
  expect(anonymous.contactId).not.toBeNull();
  await page.fill('#email', email);
  await page.fill('#firstname', 'Jane');
  await page.click('button[type=submit]');
  await page.waitForSelector(`body[data-identified="${email}"]`, { timeout: ARRIVES_MS });
  expect(await page.locator('#login-status').textContent()).toBe(`Logged in as ${email} and identified in Mautic.`);

  const contact = await waitInExport('the identified contact', (s) => s.contacts.find((c) => c.fields.email === email));
  expect(contact.fields.firstname).toBe('Jane');
  // The anonymous visitor became the identified contact: the same contact, not a new one.
  expect(contact.id).toBe(anonymous.contactId);
  const s = await snapshot();
  const identifyCalls = s.apiCalls.filter((c) => c.path.startsWith('/api/contacts') && c.status < 300);
  expect(identifyCalls.length).toBeGreaterThan(0);
  expect(JSON.stringify(identifyCalls.map((c) => c.body))).toContain(email);
  await page.close();
});

test('a returning customer on a second browser becomes the same contact: history merged, later hits counted for it', async () => {
  expect(stdout).toMatch(/API client:\s+mautic-tracker-dev/);
  expect(stdout).toMatch(/History merge:\s+on \(form \d+, field mt_visitor_ref\)/);
  const first = await waitInExport('the identified contact', (s) => s.contacts.find((c) => c.fields.email === email));
  const second = await newWatchedContext(browser);
  try {
    const page = await second.context.newPage();
    const seen = Math.max(0, ...hitsFor(await snapshot(), '/login.html').map((h) => h.seq));
    await page.goto(new URL('/login.html', site).href);
    const anonymous = await waitInExport('the second browser\'s login page hit', (s) => hitsFor(s, '/login.html').find((h) => h.seq > seen));
    expect(anonymous.contactId).not.toBe(first.id);
    await page.fill('#email', email);
    await page.click('button[type=submit]');
    await page.waitForSelector(`body[data-identified="${email}"]`, { timeout: ARRIVES_MS });
    // The second browser's anonymous contact was merged into the known one, which kept its id.
    await waitInExport('the merge', (s) => (s.contacts.some((c) => c.id === anonymous.contactId) ? undefined : true));
    const s = await snapshot();
    expect(s.contacts.filter((c) => c.fields.email === email).map((c) => c.id)).toEqual([first.id]);
    expect(s.hits.find((h) => h.seq === anonymous.seq)?.contactId).toBe(first.id);
    // Its next page is counted for the known contact by the stand-in's own attribution (the device moved).
    await page.goto(new URL('/plain.html', site).href);
    const later = await waitInExport('the second browser\'s next hit', (x) => x.hits.find((h) => h.seq > anonymous.seq && new URL(h.url).pathname === '/plain.html' && h.contactId === first.id));
    expect(later.contactId).toBe(first.id);
    expect(second.pageErrors).toEqual([]);
  } finally {
    await second.context.close();
  }
});

test('a forged identification (no valid token) is refused and changes nothing', async () => {
  const page = await open('/login.html');
  await waitInExport('a second login page hit', (s) => (hitsFor(s, '/login.html').length >= 2 ? true : undefined));
  const outcome = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const mt = (window as unknown as { mt: (...args: unknown[]) => void }).mt;
        mt('identify', { email: 'ceo@example.com', token: 'v1.9999999999.forged' }, {
          onload: () => resolve('delivered'),
          onerror: (error: Error) => resolve(`error: ${error.message}`),
        });
      }),
  );
  expect(outcome).toMatch(/^error/);
  expect((await snapshot()).contacts.some((c) => c.fields.email === 'ceo@example.com')).toBe(false);
  await page.close();
});

test('custom events with callbacks, including "track, then navigate away"', async () => {
  const page = await open('/events.html');
  await waitInExport('the events page hit', (s) => hitsFor(s, '/events.html')[0]);
  await page.click('#signup');
  await expect.poll(() => page.locator('#event-status').textContent(), { timeout: ARRIVES_MS }).toBe('trial / signup: delivered.');
  const signup = await waitInExport('the signup event', (s) => s.events.find((e) => e.action === 'signup'));
  expect(signup).toMatchObject({ category: 'trial', label: 'hero-button', value: '1' });
  expect(new URL(signup.url).pathname).toBe('/events.html');

  await Promise.all([page.waitForURL('**/thanks.html', { timeout: ARRIVES_MS }), page.click('#download')]);
  const download = await waitInExport('the download event', (s) => s.events.find((e) => e.action === 'download'));
  expect(download).toMatchObject({ category: 'content', label: 'whitepaper' });
  await waitInExport('the thanks page hit', (s) => hitsFor(s, '/thanks.html')[0]);
  // The event was recorded before the next page's pageview: nothing was lost by leaving.
  const s = await snapshot();
  expect(download.seq).toBeLessThan(hitsFor(s, '/thanks.html')[0]!.seq);
  await page.close();
});

test('the rendered dashboard shows contacts, hits, events and identify calls, and updates live', async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(dashboard);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: ARRIVES_MS });
  await expect.poll(() => page.locator('#live').textContent(), { timeout: ARRIVES_MS }).toBe('live');

  const s = await snapshot();
  expect(await page.locator('[data-count="hits"]').textContent()).toBe(String(s.counts.hits));
  const contacts = (await page.locator('#contacts tbody').textContent()) ?? '';
  expect(contacts).toContain(email);
  expect(contacts).toContain('demo-plain');
  const events = (await page.locator('#events tbody').textContent()) ?? '';
  for (const word of ['signup', 'hero-button', 'download', 'whitepaper']) expect(events).toContain(word);
  const hits = (await page.locator('#hits tbody').textContent()) ?? '';
  for (const path of ['/plain.html', '/spa/pricing', '/spa/about', '/tag-manager.html', '/login.html', '/thanks.html']) expect(hits).toContain(path);
  const api = (await page.locator('#api tbody').textContent()) ?? '';
  expect(api).toContain('/api/contacts');

  // Live: an event sent now appears without reloading the dashboard.
  const events2 = await open('/events.html');
  await events2.click('#video');
  await expect.poll(() => page.locator('#events tbody').textContent(), { timeout: ARRIVES_MS }).toContain('product-tour');

  // The filter narrows every table.
  await page.fill('#filter', 'product-tour');
  await expect.poll(() => page.locator('#events tbody tr').count(), { timeout: ARRIVES_MS }).toBe(1);
  await page.fill('#filter', '');

  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await events2.close();
  await page.close();
  expect(pageErrors).toEqual([]);
});

test('no page of the demo or the dashboard asked for anything that answered an error, and none makes browsers ask for /favicon.ico', async () => {
  const page = await open('/');
  // Headless Chromium never asks for /favicon.ico, desktop browsers do: every page carries its icon inline.
  const icons: string[] = [];
  for (const path of ['/', '/plain.html', '/spa/', '/tag-manager.html', '/login.html', '/events.html', '/thanks.html', dashboard]) {
    await page.goto(new URL(path, site).href);
    icons.push(await page.evaluate(() => (document.querySelector('link[rel="icon"]') as HTMLLinkElement | null)?.href.slice(0, 5) ?? 'none'));
  }
  expect(icons).toEqual(Array(8).fill('data:'));
  await page.waitForLoadState('networkidle');
  await page.close();
  // The forged identification above is refused on purpose: it is the one expected error.
  expect(failedResponses.filter((line) => !/\/mt\/identify$/.test(line))).toEqual([]);
});

test('SIGINT stops the demo cleanly with exit code 0', async () => {
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stdout).toContain('Stopped.');
  expect(stderr).toBe('');
  // Both servers are gone.
  await expect(fetch(`${printedDashboard}export.json`)).rejects.toThrow();
  await expect(fetch(printedSite)).rejects.toThrow();
});
