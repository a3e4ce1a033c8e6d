/**
 * Shared set-up of the Playwright end-to-end files: one Chromium, one Mautic stand-in (reached as
 * `http://mautic.test:<port>`) and one website server (`http://site.test:<port>`) per file, a fresh
 * browser context per test, everything closed afterwards.
 *
 * @example
 * const env = useE2E();            // at the top level of a test file
 * test('…', async () => {
 *   env.site.setPage('/p', sitePage({ title: 'P', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
 *   const { page, pageErrors } = await env.open();
 *   await page.goto(env.site.url('/p'));
 *   await waitForHits(env.mautic, 1);
 * });
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright';
import { launchChromium } from './chromium.js';
import { mauticSnippet, sitePage, startSiteServer, type SiteServer } from './site-server.js';
import { startStandin } from '../../src/devserver/index.js';

export type Standin = Awaited<ReturnType<typeof startStandin>>;
export type StandinOptions = NonNullable<Parameters<typeof startStandin>[0]>;
export type Hit = Standin['hits'][number];

/** Generous bound for "it arrives" on a loaded 2-core machine. */
export const ARRIVES_MS = 10_000;
/**
 * Bounded wait for "nothing more arrives": everything runs on loopback, so a duplicate or stray send
 * would follow the awaited one within milliseconds; 1.5 s leaves a wide margin on a loaded machine.
 */
export const SETTLE_MS = 1_500;

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of every page of the context (the SDK must never throw into the host page). */
  pageErrors: string[];
}

export interface E2EEnv {
  browser: Browser;
  mautic: Standin;
  site: SiteServer;
  /** `http://mautic.test:<port>` — the stand-in as another site than the page. */
  mauticBase: string;
  /** `http://mautic.test:<port>/mtc.js` — what the snippet loads. */
  scriptUrl: string;
  /** A fresh, watched browser context with one page; closed after the test. */
  open(options?: BrowserContextOptions): Promise<OpenedPage>;
}

/** Registers beforeAll/afterEach/afterAll hooks; the returned object is filled in beforeAll. */
export function useE2E(standinOptions: StandinOptions = {}): E2EEnv {
  const contexts: BrowserContext[] = [];
  const env = {} as E2EEnv;

  beforeAll(async () => {
    const [browser, mautic, site] = await Promise.all([
      launchChromium(),
      startStandin({
        host: '127.0.0.1',
        port: 0,
        // E2E_SCRIPT_FILE runs the suite against another tracking script (e.g. to see which
        // checks a naive or older script fails); default: the stand-in's own, dist/mtc.js.
        ...(process.env.E2E_SCRIPT_FILE ? { scriptFile: process.env.E2E_SCRIPT_FILE } : {}),
        ...standinOptions,
      }),
      startSiteServer(),
    ]);
    const port = new URL(mautic.url).port;
    Object.assign(env, {
      browser,
      mautic,
      site,
      mauticBase: `http://mautic.test:${port}`,
      scriptUrl: `http://mautic.test:${port}/mtc.js`,
      open: async (options: BrowserContextOptions = {}): Promise<OpenedPage> => {
        const context = await browser.newContext(options);
        contexts.push(context);
        const pageErrors: string[] = [];
        context.on('weberror', (error) => pageErrors.push(String(error.error())));
        const page = await context.newPage();
        return { context, page, pageErrors };
      },
    });
  });

  afterEach(async () => {
    // Closing the contexts first aborts requests a test left hanging on purpose.
    await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined)));
    env.mautic?.clearInjections();
    env.mautic?.reset();
  });

  afterAll(async () => {
    await Promise.all([
      env.browser?.close(),
      env.mautic?.close(),
      env.site?.close(),
    ]);
  });

  return env;
}

/** Hits (of any route) matching `predicate`. */
export function hitsWhere(mautic: Standin, predicate: (hit: Hit) => boolean = () => true): Hit[] {
  return mautic.hits.filter(predicate);
}

/** Waits until at least `count` hits match; on timeout the error lists what did arrive. */
export async function waitForHits(
  mautic: Standin,
  count: number,
  predicate: (hit: Hit) => boolean = () => true,
  timeoutMs = ARRIVES_MS,
): Promise<Hit[]> {
  try {
    await mautic.waitFor(() => mautic.hits.filter(predicate).length >= count, timeoutMs);
  } catch (error) {
    const seen = mautic.hits.map((h) => `${h.via} ${h.method} ${h.path} ${h.pageUrl}`).join('\n  ');
    const requests = mautic.requests.map((r) => `${r.method} ${r.path}${r.search ?? ''}`).join('\n  ');
    throw new Error(
      `expected ${count} matching hit(s) within ${timeoutMs} ms (${String(error)}); hits:\n  ${seen || '(none)'}\nrequests:\n  ${requests || '(none)'}`,
    );
  }
  return mautic.hits.filter(predicate);
}

/** Case-insensitive header lookup on a recorded request's headers. */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(n: string): string | null }).get(name);
    return value ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Bounded, documented wait for "nothing more arrives" (see SETTLE_MS). */
export function settle(ms = SETTLE_MS): Promise<void> {
  return sleep(ms);
}

/** One entry of `window.__log` (see INSTRUMENTATION in site-server.ts). */
export interface LogEntry {
  tag: string;
  kind: 'onload' | 'onerror' | 'delivered';
  // Plain JSON copied out of the page.
  detail?: {
    event?: string;
    params?: Record<string, unknown>;
    response?: { id?: unknown; device_id?: unknown; sid?: unknown; success?: unknown };
    image?: boolean;
  };
  message?: string;
  isError?: boolean;
  at: number;
}

export async function readLog(page: Page): Promise<LogEntry[]> {
  return page.evaluate(() => (window as unknown as { __log: LogEntry[] }).__log.slice());
}

/** Waits until `window.__log` holds at least `count` entries with this tag (and kind, if given). */
export async function waitForLog(
  page: Page,
  tag: string,
  options: { kind?: LogEntry['kind']; count?: number; timeoutMs?: number } = {},
): Promise<LogEntry[]> {
  const { kind, count = 1, timeoutMs = ARRIVES_MS } = options;
  try {
    await page.waitForFunction(
      ({ tag, kind, count }) =>
        ((window as unknown as { __log?: LogEntry[] }).__log ?? []).filter(
          (e) => e.tag === tag && (kind === undefined || e.kind === kind),
        ).length >= count,
      { tag, kind, count },
      { timeout: timeoutMs },
    );
  } catch (error) {
    const log = await readLog(page).catch(() => []);
    throw new Error(`waiting for ${count}× ${tag}/${kind ?? '*'} in window.__log: ${String(error)}\nlog: ${JSON.stringify(log)}`);
  }
  return (await readLog(page)).filter((e) => e.tag === tag && (kind === undefined || e.kind === kind));
}

/** Settling entries (onload/onerror) of one tag. */
export function settlements(log: LogEntry[], tag: string): LogEntry[] {
  return log.filter((e) => e.tag === tag && (e.kind === 'onload' || e.kind === 'onerror'));
}

/** Parses a form-encoded body or query into ordered [key, value] pairs (decoding %XX, not `+`). */
export function formPairs(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    return [decodeURIComponent(key), decodeURIComponent(value)];
  });
}

/** The raw form body of a POST hit or the raw query of a pixel hit. */
export function rawOf(hit: Hit): string {
  const raw = (hit as { rawBody?: string; rawQuery?: string }).rawBody ?? (hit as { rawQuery?: string }).rawQuery ?? '';
  return raw.startsWith('?') ? raw.slice(1) : raw;
}

/**
 * The docs' "track, then redirect" page: `/form` sends a pageview with `email` whose onload goes to
 * `/thanks` and whose onerror goes to `/thanks?error=1`. Resolves with the page once onload took
 * the visitor to `/thanks`; onerror fails with the URL it reached, a send that never settles with
 * a timeout.
 */
export async function trackThenRedirect(env: E2EEnv, email: string): Promise<OpenedPage> {
  env.site.setPage('/thanks', sitePage({ title: 'Thanks' }));
  env.site.setPage(
    '/form',
    sitePage({
      title: 'Form',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: `mt('send', 'pageview', {email: ${JSON.stringify(email)}}, {onload: function () { location.href = '/thanks'; }, onerror: function () { location.href = '/thanks?error=1'; }});`,
      }),
    }),
  );
  const opened = await env.open();
  await opened.page.goto(env.site.url('/form'));
  await opened.page.waitForURL((url) => url.pathname === '/thanks', { timeout: ARRIVES_MS });
  expect(opened.page.url()).toBe(env.site.url('/thanks'));
  return opened;
}
