// @vitest-environment jsdom
/**
 * The script tag (src/browser/script-tag.ts) as Mautic's snippet meets it: the queue of
 * `arguments` objects, a renamed global, the base URL from the script's own src, a second copy,
 * and odd input that must never throw into the page.
 */
import { afterAll, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { until } from './support/page-load.js';
import { startRecorder, type Recorder } from './support/recorder.js';

type Mt = ((...args: unknown[]) => void) & { q?: IArguments[] };
const host = window as unknown as Record<string, unknown>;
let server: Recorder;

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  localStorage.clear();
  document.head.innerHTML = '';
  // Each test is a fresh page load: no tracker installed by an earlier one.
  for (const name of ['mt', 'tracker', 'MauticTrackingObject']) delete host[name];
  // …and no tracker state: the script tag shares the page's with the npm entry (src/browser/page-state.ts).
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.cores'));
  vi.resetModules();
});

/** Mautic's snippet, minus the script element insertion (the test imports the script instead). */
function snippet(name: string, scriptUrl: string): Mt {
  host.MauticTrackingObject = name;
  const stub = function (this: unknown) {
    // eslint-disable-next-line prefer-rest-params
    (stub.q = stub.q || []).push(arguments);
  } as Mt;
  host[name] = host[name] || stub;
  const tag = document.createElement('script');
  tag.setAttribute('src', scriptUrl);
  document.head.appendChild(tag);
  return host[name] as Mt;
}

const loadScript = () => import('../../src/browser/script-tag.js');

test('queued calls run in order, later calls at once, under a renamed global, against the directory of the script src', async () => {
  const before = new Set(Object.keys(window));
  const stub = snippet('tracker', `${server.url}/t/mtc.js?v=2`);
  stub('send', 'pageview', { n: 1 });
  stub('send', 'event', 'Video', 'play');
  await loadScript();
  const mt = host.tracker as Mt;
  expect(mt).not.toBe(stub);
  mt('send', 'pageview', { n: 3 });
  const hits = await server.waitFor(3);
  expect(hits.map((h) => h.path)).toEqual(['/t/mtc/event', '/t/mtc/event', '/t/mtc/event']);
  expect(hits[0]!.body).toContain('n=1');
  expect(decodeURIComponent(hits[1]!.body)).toContain('mt_action=play');
  expect(hits[2]!.body).toContain('n=3');
  // No global besides the snippet's own two names and Mautic's `MauticJS`.
  const added = Object.keys(window).filter((key) => !before.has(key));
  expect(added.sort()).toEqual(['MauticJS', 'MauticTrackingObject', 'tracker']);
});

test('a second copy of the script does nothing, and a second identical pageview is not sent', async () => {
  const stub = snippet('mt', `${server.url}/mtc.js`);
  stub('send', 'pageview');
  stub('send', 'pageview');
  await loadScript();
  const first = host.mt;
  vi.resetModules();
  await loadScript();
  expect(host.mt).toBe(first);
  (host.mt as Mt)('send', 'pageview');
  await server.waitFor(1);
  await new Promise((r) => setTimeout(r, 300));
  expect(server.requests.filter((r) => r.path === '/mtc/event')).toHaveLength(1);
});

test('config sets url and timeout; odd input never throws; unknown commands warn only with debug', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  snippet('mt', `${server.url}/mtc.js`);
  await loadScript();
  const mt = host.mt as Mt;
  const odd: unknown[][] = [
    [],
    [null],
    [undefined],
    [5],
    [{}],
    [Symbol('s')],
    ['send'],
    ['send', 'bogus'],
    ['send', 'pageview', null, null],
    ['send', 'pageview', 'a string', 42],
    ['send', 'pageview', ['array'], { onload: 'not a function', onerror: 7 }],
    ['send', 'event'],
    ['send', 'event', null, null, null, null, null, null],
    ['identify'],
    ['identify', null, null],
    ['config'],
    ['config', null],
    ['config', 'not an object'],
    ['config', { timeout: -1, url: 42, debug: 'yes' }],
    ['pageview'],
    ['toString'],
    ['__proto__'],
    ['send', 'pageview', { huge: 'x'.repeat(200_000) }],
  ];
  for (const args of odd) expect(() => mt(...args)).not.toThrow();
  expect(warn).not.toHaveBeenCalledWith('mt: ignored', ['send', 'bogus']);
  mt('config', { debug: true });
  mt('bogus-command', 2);
  expect(warn).toHaveBeenCalledWith('mt: ignored', ['bogus-command', 2]);

  // `debug: 'yes'` above turned debug on (truthy); a proper url and timeout are taken.
  const other = await startRecorder();
  try {
    other.answer('/mtc/event', 'hang');
    // The sends above wait for the page's first one; let them settle first, or the one below (timed
    // from its call) could run out of time behind them on a loaded machine, before it is on the wire.
    await new Promise((done) => mt('send', 'event', 'wait', 'for-earlier-sends', '', '', {}, { onload: done, onerror: done }));
    const settled: string[] = [];
    mt('config', { url: other.url, timeout: 1500 });
    const calledAt = Date.now();
    mt('send', 'pageview', { target: 'other' }, { onerror: () => settled.push('onerror'), onload: () => settled.push('onload') });
    await other.waitFor(1, (r) => r.body.includes('target=other'));
    // Settled by its own 1.5 s timeout, well before the default 5 s would end it.
    while (!settled.length && Date.now() - calledAt < 4000) await new Promise((r) => setTimeout(r, 20));
    expect(settled).toEqual(['onerror']);
  } finally {
    await other.close();
  }
});

test('mt("config", {url}) takes one trailing slash and ignores javascript:/data:/ftp: urls with a debug warning (issue 12)', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  snippet('mt', `${server.url}/t/mtc.js`);
  await loadScript();
  const mt = host.mt as Mt;
  mt('config', { url: `${server.url}/`, debug: true });
  warn.mockClear();
  mt('send', 'pageview', { n: 1 });
  await server.waitFor(1);
  for (const url of ['javascript:alert(1)', 'data:text/html,x', 'ftp://127.0.0.1/']) mt('config', { url });
  expect(warn).toHaveBeenCalledTimes(3);
  expect(warn).toHaveBeenCalledWith('mt: ignored', 'javascript:alert(1)');
  mt('send', 'pageview', { n: 2 });
  const hits = await server.waitFor(2);
  expect(hits.map((h) => h.path)).toEqual(['/mtc/event', '/mtc/event']);
});

test('mt("send", "pageview", null, null) sends a plain pageview (Mautic\'s script throws, §9.3)', async () => {
  snippet('mt', `${server.url}/mtc.js`);
  await loadScript();
  (host.mt as Mt)('send', 'pageview', null, null);
  const [hit] = await server.waitFor(1);
  expect(hit!.body).toMatch(/^page_title=/);
});

test('a send whose params throw while being read still settles once, without the hostile value', async () => {
  snippet('mt', `${server.url}/mtc.js`);
  await loadScript();
  const hostile = { ok: 'yes' };
  Object.defineProperty(hostile, 'bad', {
    enumerable: true,
    get() {
      throw new Error('hostile getter');
    },
  });
  const settled: string[] = [];
  (host.mt as Mt)('send', 'pageview', hostile, { onload: () => settled.push('onload'), onerror: () => settled.push('onerror') });
  const [hit] = await server.waitFor(1);
  expect(hit!.body).toContain('ok=yes');
  expect(hit!.body).not.toContain('bad=');
  // onload follows the answer, not the request's arrival: wait for it, then give a second
  // settlement (which must not happen) time to show up.
  await until(() => settled.length > 0);
  await new Promise((r) => setTimeout(r, 200));
  expect(settled).toEqual(['onload']);
});
