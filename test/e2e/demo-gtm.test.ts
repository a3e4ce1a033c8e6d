/**
 * The Google Tag Manager template (demo/gtm/mautic-tracker.tpl): its sections are well-formed, its
 * permissions cover every global it touches, and its sandboxed code, run in Chromium against the
 * real dist/mtc.js and the stand-in, queues and delivers exactly one pageview even when the tag
 * fires twice.
 *
 * GTM's sandbox itself cannot run here: the test provides the eight sandbox APIs the template
 * uses, implemented as GTM documents them (window paths in dot notation; injectScript once per
 * cache token). What it proves is the template's logic against the real tracker, not GTM.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'playwright';
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

test('the template has the GTM sections, the four fields, and permissions for what its code uses', () => {
  const info = JSON.parse(section('INFO')) as { type: string; containerContexts: string[] };
  expect(info).toMatchObject({ type: 'TAG', containerContexts: ['WEB'] });
  const params = JSON.parse(section('TEMPLATE_PARAMETERS')) as { name: string; type: string }[];
  expect(params.map((p) => [p.name, p.type])).toEqual([
    ['scriptUrl', 'TEXT'],
    ['globalName', 'TEXT'],
    ['sendPageview', 'CHECKBOX'],
    ['customParams', 'SIMPLE_TABLE'],
  ]);

  const code = section('SANDBOXED_JS_FOR_WEB_TEMPLATE');
  const required = [...code.matchAll(/require\('([A-Za-z]+)'\)/g)].map((m) => m[1]);
  expect(required.sort()).toEqual(
    ['callInWindow', 'copyFromWindow', 'createArgumentsQueue', 'getType', 'injectScript', 'logToConsole', 'makeTableMap', 'setInWindow'].sort(),
  );

  const permissions = JSON.parse(section('WEB_PERMISSIONS')) as PermissionInstance[];
  const ids = permissions.map((p) => p.instance.key.publicId).sort();
  expect(ids).toEqual(['access_globals', 'inject_script', 'logging']);
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
let site: Server;
let sitePort: number;

beforeAll(async () => {
  mautic = await startStandin({ host: '127.0.0.1', port: 0, cors: 'any', scriptFile: 'dist/mtc.js' });
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
  await new Promise((resolve) => site?.close(resolve));
});

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
