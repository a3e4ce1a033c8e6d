/**
 * The Google Tag Manager template (demo/gtm/mautic-tracker.tpl): its sections are well-formed, its
 * permissions cover every global it touches, and its sandboxed code, run in Chromium against the
 * real dist/mtc.js and the stand-in, queues and delivers exactly one pageview even when the tag
 * fires twice, and with consent mode holds it until Google consent mode grants `analytics_storage`
 * (dist/mtc.durable.js, which has consent mode; with the default dist/mtc.js the tag itself holds
 * its pageview).
 *
 * GTM's sandbox itself cannot run here: the test provides the ten sandbox APIs the template
 * uses, implemented as GTM documents them (window paths in dot notation; injectScript once per
 * cache token; a consent type without state counts as granted, and consent listeners hear each
 * change between denied and granted). What it proves is the template's logic against the real tracker, not GTM.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright';
import { launchChromium, newWatchedContext } from '../support/chromium.js';
import { startStandin, type Standin } from '../../src/devserver/index.js';

const TEMPLATE = readFileSync('demo/gtm/mautic-tracker.tpl', 'utf8');

function section(name: string): string {
  const match = new RegExp(`___${name}___\\n([\\s\\S]*?)(?=\\n___[A-Z_]+___\\n|$)`).exec(TEMPLATE);
  if (!match?.[1]) throw new Error(`section ${name} missing`);
  return match[1].trim();
}

interface PermissionInstance {
  instance: { key: { publicId: string }; param: { key: string; value: { listItem?: { mapValue?: { string?: string; boolean?: boolean }[]; string?: string }[] } }[] };
}

test('the template has the GTM sections, the five fields, and permissions for what its code uses', () => {
  const info = JSON.parse(section('INFO')) as { type: string; containerContexts: string[] };
  expect(info).toMatchObject({ type: 'TAG', containerContexts: ['WEB'] });
  const params = JSON.parse(section('TEMPLATE_PARAMETERS')) as { name: string; type: string }[];
  expect(params.map((p) => [p.name, p.type])).toEqual([
    ['scriptUrl', 'TEXT'],
    ['globalName', 'TEXT'],
    ['sendPageview', 'CHECKBOX'],
    ['consentMode', 'CHECKBOX'],
    ['customParams', 'SIMPLE_TABLE'],
  ]);

  const code = section('SANDBOXED_JS_FOR_WEB_TEMPLATE');
  const required = [...code.matchAll(/require\('([A-Za-z]+)'\)/g)].map((m) => m[1]);
  expect(required.sort()).toEqual(
    [
      'addConsentListener',
      'callInWindow',
      'copyFromWindow',
      'createArgumentsQueue',
      'getType',
      'injectScript',
      'isConsentGranted',
      'logToConsole',
      'makeTableMap',
      'setInWindow',
    ].sort(),
  );

  const permissions = JSON.parse(section('WEB_PERMISSIONS')) as PermissionInstance[];
  const ids = permissions.map((p) => p.instance.key.publicId).sort();
  expect(ids).toEqual(['access_consent', 'access_globals', 'inject_script', 'logging']);
  const consent = permissions.find((p) => p.instance.key.publicId === 'access_consent')!.instance.param[0]!.value.listItem!;
  // Reads analytics_storage, writes no consent state (that is the consent manager's job).
  expect(consent.map((c) => c.mapValue!.map((v) => v.string ?? v.boolean))).toEqual([['analytics_storage', true, false]]);
  const globals = permissions.find((p) => p.instance.key.publicId === 'access_globals')!.instance.param[0]!.value.listItem!;
  const access = Object.fromEntries(globals.map((g) => [g.mapValue![0]!.string, g.mapValue!.slice(1).map((v) => v.boolean)]));
  expect(access).toEqual({
    MauticTrackingObject: [true, true, false],
    mt: [true, true, true],
    'mt.q': [true, true, false],
  });
});

let browser: Browser;
let mautic: Standin;
/** Serves dist/mtc.durable.js as its mtc.js: consent mode needs that variant (the default has none). */
let durableMautic: Standin;
let site: Server;
let sitePort: number;

beforeAll(async () => {
  mautic = await startStandin({ host: '127.0.0.1', port: 0, cors: 'any', scriptFile: 'dist/mtc.js' });
  durableMautic = await startStandin({ host: '127.0.0.1', port: 0, cors: 'any', scriptFile: 'dist/mtc.durable.js' });
  site = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>GTM page</title><body><h1>A page with a tag manager</h1></body>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  sitePort = (site.address() as AddressInfo).port;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await mautic?.close();
  await durableMautic?.close();
  await new Promise((resolve) => site?.close(resolve));
});

interface GtmConsent {
  state: Record<string, 'granted' | 'denied'>;
  listeners: Array<{ type: string; listener: (type: string, granted: boolean) => void }>;
}

/** Google consent mode's state on the page, with `update` as a consent manager calls it. Runs in the page. */
function installConsentMode(initial: Record<string, 'granted' | 'denied'>): void {
  const consent: GtmConsent & { update(type: string, value: 'granted' | 'denied'): void } = {
    state: { ...initial },
    listeners: [],
    update(type, value) {
      const was = consent.state[type] !== 'denied';
      consent.state[type] = value;
      // GTM calls a listener on a change between denied and granted only (unset counts as granted).
      if (was !== (value === 'granted')) consent.listeners.filter((l) => l.type === type).forEach((l) => l.listener(type, value === 'granted'));
    },
  };
  (window as unknown as { __gtmConsent: typeof consent }).__gtmConsent = consent;
}

/**
 * The site's page with Google consent mode set to `initial`, and the tag fired there in consent
 * mode, loading `standin`'s mtc.js (`extra`: more tag fields).
 */
async function fireConsentModeTag(page: Page, standin: Standin, initial: Record<string, 'granted' | 'denied'>, extra: object = {}): Promise<void> {
  await page.goto(`http://site.test:${sitePort}/`);
  await page.evaluate(installConsentMode, initial);
  const code = section('SANDBOXED_JS_FOR_WEB_TEMPLATE');
  const data = { scriptUrl: `http://mautic.test:${new URL(standin.url).port}/mtc.js`, globalName: 'mt', sendPageview: true, consentMode: true, ...extra };
  expect(await page.evaluate(runTemplate, { code, data })).toBe('success');
}

/** The page's consent manager updating Google consent mode's `analytics_storage`. */
async function updateAnalyticsStorage(page: Page, value: 'granted' | 'denied'): Promise<void> {
  await page.evaluate((v) => (window as unknown as { __gtmConsent: { update(t: string, v: string): void } }).__gtmConsent.update('analytics_storage', v), value);
}

/** The sandbox APIs the template requires, as GTM documents them. Runs in the page. */
function runTemplate(args: { code: string; data: Record<string, unknown> }): Promise<string> {
  return new Promise<string>((resolve) => {
    const w = window as unknown as Record<string, unknown>;
    const injected = new Set<string>();
    const getPath = (path: string): unknown =>
      path.split('.').reduce<unknown>((obj, key) => (obj == null ? undefined : (obj as Record<string, unknown>)[key]), w);
    const setPath = (path: string, value: unknown, override: boolean): boolean => {
      const keys = path.split('.');
      const last = keys.pop() as string;
      const parent = keys.length ? (getPath(keys.join('.')) as Record<string, unknown> | undefined) : w;
      if (parent == null) throw new Error(`no parent for ${path}`);
      if (!override && parent[last] !== undefined) return false;
      parent[last] = value;
      return true;
    };
    const apis: Record<string, unknown> = {
      callInWindow: (path: string, ...rest: unknown[]) => (getPath(path) as (...a: unknown[]) => unknown)(...rest),
      copyFromWindow: (path: string) => getPath(path),
      createArgumentsQueue: (fnKey: string, arrayKey: string) => {
        if (getPath(fnKey) === undefined) {
          setPath(fnKey, function (this: unknown) {
            // eslint-disable-next-line prefer-rest-params
            (getPath(arrayKey) as unknown[]).push(arguments);
          }, false);
        }
        if (getPath(arrayKey) === undefined) setPath(arrayKey, [], false);
        return getPath(fnKey);
      },
      getType: (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value),
      injectScript: (url: string, onSuccess: () => void, onFailure: () => void, cacheToken?: string) => {
        if (cacheToken && injected.has(cacheToken)) {
          onSuccess();
          return;
        }
        if (cacheToken) injected.add(cacheToken);
        const script = document.createElement('script');
        script.src = url;
        script.async = true;
        script.onload = onSuccess;
        script.onerror = onFailure;
        document.head.appendChild(script);
      },
      logToConsole: (...rest: unknown[]) => console.log(...rest),
      makeTableMap: (rows: Record<string, unknown>[], key: string, value: string) =>
        Object.fromEntries(rows.map((row) => [row[key], row[value]])),
      setInWindow: (key: string, value: unknown, override: boolean) => setPath(key, value, override),
      // Google consent mode as the page's consent manager set it (window.__gtmConsent, below).
      isConsentGranted: (type: string) => (w.__gtmConsent as GtmConsent | undefined)?.state[type] !== 'denied',
      addConsentListener: (type: string, listener: (type: string, granted: boolean) => void) =>
        (w.__gtmConsent as GtmConsent).listeners.push({ type, listener }),
    };
    const data = {
      ...args.data,
      gtmOnSuccess: () => resolve('success'),
      gtmOnFailure: () => resolve('failure'),
    };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('require', 'data', args.code)((name: string) => apis[name], data);
  });
}

test('the template\'s code loads the tracker and delivers one pageview with its custom parameters', async () => {
  const { context, pageErrors } = await newWatchedContext(browser);
  try {
    const page = await context.newPage();
    await page.goto(`http://site.test:${sitePort}/`);
    const code = section('SANDBOXED_JS_FOR_WEB_TEMPLATE');
    const data = {
      scriptUrl: `http://mautic.test:${new URL(mautic.url).port}/mtc.js`,
      globalName: 'mt',
      sendPageview: true,
      customParams: [
        { name: 'tags', value: 'gtm' },
        { name: 'utm_campaign', value: 'spring' },
      ],
    };
    expect(await page.evaluate(runTemplate, { code, data })).toBe('success');
    await mautic.waitFor((state) => state.hits.length >= 1, 10_000);
    // A second firing (e.g. a history-change trigger on the same URL) sends no duplicate.
    expect(await page.evaluate(runTemplate, { code, data })).toBe('success');
    await page.waitForTimeout(1_000);

    const hits = mautic.hits;
    expect(hits).toHaveLength(1);
    expect(hits[0]?.params).toMatchObject({ tags: 'gtm', utm_campaign: 'spring', page_title: 'GTM page' });
    expect(await page.evaluate(() => (window as unknown as { MauticTrackingObject: string }).MauticTrackingObject)).toBe('mt');
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('consent mode: the tag holds the pageview while analytics_storage is denied, a grant sends it, a denial removes the ids', async () => {
  durableMautic.reset();
  const { context, pageErrors } = await newWatchedContext(browser);
  try {
    const page = await context.newPage();
    await fireConsentModeTag(page, durableMautic, { analytics_storage: 'denied' }, { customParams: [{ name: 'tags', value: 'gtm-consent' }] });
    await page.waitForFunction(() => (window as unknown as { mt?: { mtc?: 1 } }).mt?.mtc === 1);
    await page.waitForTimeout(1_000);
    expect(durableMautic.hits).toHaveLength(0);
    expect(await page.evaluate(() => ({ ...localStorage }))).toEqual({});
    expect(await context.cookies()).toEqual([]);

    // The consent manager updates Google consent mode.
    await updateAnalyticsStorage(page, 'granted');
    await durableMautic.waitFor((state) => state.hits.length >= 1, 10_000);
    expect(durableMautic.hits[0]?.params).toMatchObject({ tags: 'gtm-consent' });
    await page.waitForFunction(() => localStorage.getItem('mautic_device_id') !== null);

    await updateAnalyticsStorage(page, 'denied');
    await page.waitForFunction(() => localStorage.length === 0);
    expect((await context.cookies()).filter((c) => c.domain === 'site.test')).toEqual([]);
    await page.evaluate(() => (window as unknown as { mt: (...a: unknown[]) => void }).mt('send', 'pageview', { after: 'deny' }));
    await page.waitForTimeout(1_000);
    expect(durableMautic.hits).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
    durableMautic.reset();
  }
});

test('consent mode with analytics_storage already granted (or never set) sends at once', async () => {
  durableMautic.reset();
  const { context, pageErrors } = await newWatchedContext(browser);
  try {
    const page = await context.newPage();
    await fireConsentModeTag(page, durableMautic, {});
    await durableMautic.waitFor((state) => state.hits.length >= 1, 10_000);
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
    durableMautic.reset();
  }
});

test('consent mode with the default mtc.js (no consent mode in it): the tag itself queues no pageview before the grant, one after it', async () => {
  mautic.reset();
  const { context, pageErrors } = await newWatchedContext(browser);
  try {
    const page = await context.newPage();
    await fireConsentModeTag(page, mautic, { analytics_storage: 'denied' });
    await page.waitForFunction(() => (window as unknown as { mt?: { mtc?: 1 } }).mt?.mtc === 1);
    await page.waitForTimeout(1_000);
    expect(mautic.hits).toHaveLength(0);
    expect(await page.evaluate(() => ({ ...localStorage }))).toEqual({});
    await updateAnalyticsStorage(page, 'granted');
    await mautic.waitFor((state) => state.hits.length >= 1, 10_000);
    await page.waitForTimeout(500);
    expect(mautic.hits).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
    mautic.reset();
  }
});
