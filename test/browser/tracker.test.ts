// @vitest-environment jsdom
/**
 * The tracker core through its two real front doors (createTracker and the `mt()` command runner)
 * against a real HTTP server on 127.0.0.1: wire format, ids, ordering, duplicates, the delivered
 * event, and every send settling exactly once within its timeout.
 *
 * jsdom loads no images, so the pixel fallback can only be seen timing out here; the Playwright
 * tests cover it in Chromium.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { createTracker, type SendResult } from '../../src/browser/index.js';
import { createCore } from '../../src/browser/tracker.js';
import { createCommandRunner } from '../../src/browser/commands.js';
import type { TrackerConfig } from '../../src/browser/types.js';
import { DEFAULT_HIT_KEYS } from '../../src/protocol/wire.js';
import { formPairs, startRecorder, TRACKING_ANSWER, type Recorder } from './support/recorder.js';

let server: Recorder;
const events = (r: Recorder) => r.requests.filter((q) => q.path === '/mtc/event');

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  localStorage.clear();
  // Each test is a fresh page load: trackers of one page share their state (src/browser/page-state.ts).
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.cores'));
  document.title = 'Unit page';
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runner + core as the script tag builds them, with a log of every callback call. */
function scriptTag(options: { timeout?: number; debug?: boolean } = {}) {
  const config = { _url: server.url, _timeout: options.timeout ?? 5000, _debug: options.debug } as TrackerConfig;
  const mt = createCommandRunner(createCore(config), config);
  const log: { name: string; kind: 'onload' | 'onerror'; arg: unknown }[] = [];
  const cb = (name: string) => ({
    onload: (arg: unknown) => log.push({ name, kind: 'onload', arg }),
    onerror: (arg: unknown) => log.push({ name, kind: 'onerror', arg }),
  });
  const settled = async (name: string, timeoutMs = 10_000) => {
    const start = Date.now();
    while (!log.some((e) => e.name === name)) {
      if (Date.now() - start > timeoutMs) throw new Error(`${name} never settled`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // Give a second settlement (which must not happen) a chance to show up.
    await new Promise((r) => setTimeout(r, 100));
    return log.filter((e) => e.name === name);
  };
  return { mt, log, cb, settled };
}

test('a pageview is a form POST with the two headers, default keys in order, and its answer is returned', async () => {
  const tracker = createTracker({ url: server.url });
  const delivered: CustomEvent[] = [];
  const listener = (event: Event) => delivered.push(event as CustomEvent);
  document.addEventListener('mauticPageEventDelivered', listener);
  const result = await tracker.pageview({ email: 'jane@example.com', tags: ['a', '-b'], skipped: null });
  document.removeEventListener('mauticPageEventDelivered', listener);

  const [hit] = events(server);
  expect(hit!.method).toBe('POST');
  expect(hit!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  expect(hit!.headers['x-requested-with']).toBe('XMLHttpRequest');
  const pairs = formPairs(hit!.body);
  expect(pairs.map(([key]) => key)).toEqual([...DEFAULT_HIT_KEYS.filter((k) => k !== 'mautic_device_id'), 'email', 'tags']);
  expect(Object.fromEntries(pairs)).toMatchObject({ page_title: 'Unit page', page_url: location.href, counter: '0', email: 'jane@example.com', tags: 'a,-b' });

  expect(result).toMatchObject({ ok: true, via: 'post', event: 'pageview', response: JSON.parse(TRACKING_ANSWER) });
  expect(delivered).toHaveLength(1);
  expect(delivered[0]!.detail).toMatchObject({ event: 'pageview', response: JSON.parse(TRACKING_ANSWER) });
  expect(delivered[0]!.detail.params).toEqual(Object.fromEntries(pairs));
  expect(localStorage.getItem('mautic_device_id')).toBe('k3j9x0c1m2n4b5v6z7a8s9d');
  expect(localStorage.getItem('mtc_id')).toBe('42');
});

test('later hits count up and carry the learnt device id before the custom keys', async () => {
  const tracker = createTracker({ url: server.url });
  await tracker.pageview();
  await tracker.pageview({ step: '2' });
  const second = formPairs(events(server)[1]!.body);
  expect(second.map(([key]) => key)).toEqual([...DEFAULT_HIT_KEYS, 'step']);
  expect(Object.fromEntries(second)).toMatchObject({ counter: '1', mautic_device_id: 'k3j9x0c1m2n4b5v6z7a8s9d' });
});

test('the first send goes at once; a later one waits until the first settled, then carries its ids', async () => {
  server.answer('/mtc/event', (request) =>
    request.body.includes('first=1') ? { status: 200, body: TRACKING_ANSWER, delayMs: 400 } : { status: 200, body: TRACKING_ANSWER },
  );
  const tracker = createTracker({ url: server.url });
  const first = tracker.pageview({ first: '1' });
  const second = tracker.pageview({ second: '1' });
  const [a, b] = await Promise.all([first, second]);
  expect(a.ok && b.ok).toBe(true);
  const [hitA, hitB] = events(server);
  expect(hitA!.body).toContain('first=1');
  expect(hitB!.at).toBeGreaterThanOrEqual(hitA!.answeredAt!);
  expect(hitB!.body).toContain('mautic_device_id=k3j9x0c1m2n4b5v6z7a8s9d');
});

test('an identical pageview right after the first is not sent again and settles with the first outcome', async () => {
  const { mt, cb, settled } = scriptTag();
  mt('send', 'pageview', { a: 1 }, cb('one'));
  mt('send', 'pageview', { a: 1 }, cb('two'));
  const [one] = await settled('one');
  const [two] = await settled('two');
  expect(events(server)).toHaveLength(1);
  expect(one!.kind).toBe('onload');
  expect(two).toEqual({ ...one, name: 'two' });
  // A different one is sent.
  mt('send', 'pageview', { a: 2 }, cb('three'));
  await settled('three');
  expect(events(server)).toHaveLength(2);
});

test('a hanging server: exactly one onerror, within the timeout, and the next send still settles', async () => {
  server.answer('/mtc/event', 'hang');
  const { mt, cb, settled } = scriptTag({ timeout: 300 });
  const start = Date.now();
  mt('send', 'pageview', {}, cb('one'));
  mt('send', 'pageview', { n: 2 }, cb('two'));
  const one = await settled('one');
  expect(one).toHaveLength(1);
  expect(one[0]!.kind).toBe('onerror');
  expect(one[0]!.arg).toBeInstanceOf(Error);
  // A bound, not a speed measurement: generous for a loaded machine.
  expect(Date.now() - start).toBeLessThan(300 + 5000);
  const two = await settled('two');
  expect(two.map((e) => e.kind)).toEqual(['onerror']);
});

test('the npm promise resolves {ok:false, error} on timeout and never rejects', async () => {
  server.answer('/mtc/event', 'hang');
  const result = await createTracker({ url: server.url, timeout: 200 }).pageview();
  expect(result.ok).toBe(false);
  expect((result as { error: Error }).error.message).toMatch(/timeout/);
});

test('HTTP 500 is not a delivery: the pixel is tried (jsdom never loads it) and the send fails within the timeout', async () => {
  server.answer('/mtc/event', { status: 500, body: 'oops', type: 'text/plain' });
  const result = await createTracker({ url: server.url, timeout: 300 }).pageview();
  expect(result.ok).toBe(false);
  expect(localStorage.getItem('mautic_device_id')).toBeNull();
});

test('a late answer after the deadline changes nothing: no second settlement', async () => {
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER, delayMs: 600 });
  const { mt, cb, settled } = scriptTag({ timeout: 200 });
  mt('send', 'pageview', {}, cb('late'));
  await settled('late');
  await new Promise((r) => setTimeout(r, 700));
  const log = await settled('late');
  expect(log.map((e) => e.kind)).toEqual(['onerror']);
});

test('{"success":0} (Mautic refuses to track) counts as delivered, with the answer, and stores no ids', async () => {
  server.answer('/mtc/event', { status: 200, body: '{"success":0}' });
  const result = await createTracker({ url: server.url }).pageview();
  expect(result).toMatchObject({ ok: true, via: 'post', response: { success: 0 } });
  expect(localStorage.getItem('mautic_device_id')).toBeNull();
  expect(localStorage.getItem('mtc_id')).toBeNull();
});

test('an answer with null ids stores nothing and no later hit carries "null"', async () => {
  server.answer('/mtc/event', { status: 200, body: '{"success":1,"id":null,"sid":null,"device_id":null,"events":[]}' });
  const tracker = createTracker({ url: server.url });
  await tracker.pageview();
  await tracker.pageview({ n: 2 });
  expect(localStorage.getItem('mautic_device_id')).toBeNull();
  expect(events(server)[1]!.body).not.toContain('mautic_device_id');
  expect(events(server)[1]!.body).not.toContain('null');
});

test('a throwing callback breaks neither the SDK nor later sends; with debug it is logged', async () => {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const { mt, cb, settled } = scriptTag({ debug: true });
  mt('send', 'pageview', {}, {
    onload() {
      throw new Error('user bug');
    },
  });
  mt('send', 'pageview', { n: 2 }, cb('after'));
  expect((await settled('after'))[0]!.kind).toBe('onload');
  expect(errors).toHaveBeenCalledWith(expect.objectContaining({ message: 'user bug' }));
});

test('a custom event is a hit whose page_url carries mt_* query parameters', async () => {
  const result = await createTracker({ url: server.url }).event('Video', 'play', 'intro', 30, { email: 'e@example.com' });
  expect(result).toMatchObject({ ok: true, event: 'event' });
  const params = Object.fromEntries(formPairs(events(server)[0]!.body));
  const url = new URL(params.page_url!);
  expect(Object.fromEntries(url.searchParams)).toMatchObject({ mt_category: 'Video', mt_action: 'play', mt_label: 'intro', mt_value: '30' });
  expect(params.email).toBe('e@example.com');
});

test('identify posts JSON {email, fields, token} with credentials; 2xx delivers, anything else fails', async () => {
  const tracker = createTracker({ url: server.url });
  const ok = await tracker.identify({ email: 'jane@example.com', fields: { firstname: 'Jane' }, token: 't1' });
  const [request] = server.requests.filter((r) => r.path === '/identify');
  expect(request!.method).toBe('POST');
  expect(request!.headers['content-type']).toBe('application/json');
  expect(JSON.parse(request!.body)).toEqual({ email: 'jane@example.com', fields: { firstname: 'Jane' }, token: 't1' });
  expect(ok).toMatchObject({ ok: true, via: 'post', event: 'identify', params: { email: 'jane@example.com' } });

  server.answer('/identify', { status: 400, body: '{"error":"email required"}' });
  const refused = await tracker.identify({} as never);
  expect(refused.ok).toBe(false);
});

test('at pagehide, a send still waiting for the first one goes out with sendBeacon (CORS-simple) and settles', async () => {
  // jsdom has no sendBeacon: this one hands the body to the real server, as a browser would.
  const beacons: { url: string; type: string; body: string }[] = [];
  Object.defineProperty(navigator, 'sendBeacon', {
    configurable: true,
    value: (url: string, data: Blob) => {
      const reader = new FileReader();
      reader.onload = () => {
        const body = String(reader.result);
        beacons.push({ url, type: data.type, body });
        void fetch(url, { method: 'POST', body, headers: { 'content-type': data.type } });
      };
      reader.readAsText(data);
      return true;
    },
  });
  try {
    server.answer('/mtc/event', (request) => (request.headers['x-requested-with'] ? 'hang' : { status: 200, body: '' }));
    const tracker = createTracker({ url: server.url, timeout: 3000 });
    const first = tracker.pageview({ first: '1' });
    const waiting = tracker.pageview({ second: '1' });
    await server.waitFor(1);
    window.dispatchEvent(new Event('pagehide'));
    const result: SendResult = await waiting;
    expect(result).toMatchObject({ ok: true, via: 'beacon', beacon: true });
    const [beaconed] = await server.waitFor(1, (r) => !r.headers['x-requested-with']);
    expect(beaconed!.path).toBe('/mtc/event');
    expect(beaconed!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(beaconed!.body).toContain('second=1');
    // The first send was on the wire already: not beaconed again.
    expect(beacons.map((b) => b.body).join()).not.toContain('first=1');
    expect((await first).ok).toBe(false);
  } finally {
    delete (navigator as unknown as Record<string, unknown>).sendBeacon;
  }
});

test('trackers made twice on one page (StrictMode, HMR, two components) share one state: one first send, one counter, one pageview', async () => {
  const keysBefore = Object.keys(window).length;
  // What React StrictMode does with the README's effect: create, pageview, cleanup, and again.
  const first = createTracker({ url: server.url });
  const second = createTracker({ url: server.url + '/' });
  const results = await Promise.all([first.pageview(), second.pageview()]);
  expect(results.map((r) => r.ok)).toEqual([true, true]);
  expect(events(server)).toHaveLength(1);
  await second.event('video', 'play');
  await first.pageview({ tags: 'later' });
  const counters = events(server).map((r) => new URLSearchParams(r.body).get('counter'));
  expect(counters).toEqual(['0', '1', '2']);
  // The shared slot is symbol-keyed and non-enumerable: no new global name.
  expect(Object.keys(window).length).toBe(keysBefore);
});

test('trackers for different Mautic URLs keep their own state', async () => {
  const a = createTracker({ url: server.url });
  const b = createTracker({ url: server.url + '/other' });
  await a.pageview();
  await b.pageview();
  expect(server.requests.filter((r) => r.path === '/mtc/event' || r.path === '/other/mtc/event').map((r) => new URLSearchParams(r.body).get('counter'))).toEqual(['0', '0']);
});

test('a pageview called from an effect reads the title a later effect of the same render sets (npm entry)', async () => {
  document.title = 'Loading';
  const tracker = createTracker({ url: server.url });
  const sent = tracker.pageview();
  document.title = 'Home'; // the page's own effect, after the tracking component's
  const event = tracker.event('video', 'play');
  await Promise.all([sent, event]);
  const hits = events(server).map((r) => new URLSearchParams(r.body));
  expect(hits.map((h) => [h.get('page_title'), h.get('counter')])).toEqual([
    ['Home', '0'],
    ['Home', '1'],
  ]);
});
