// @vitest-environment jsdom
/**
 * The durable send queue through the npm entry's createTracker, against a real HTTP server on
 * 127.0.0.1 (and a closed port for "Mautic unreachable"): what is kept, in which order it is
 * delivered, hit ids through the proxy, the straight-to-Mautic rule, the bounds, the lease.
 *
 * Each test is a fresh page load: the modules are imported anew (the queue's state is per page),
 * and storage is cleared. jsdom loads no images, so the pixel fallback never succeeds here; where a
 * test needs the pixel to fail as a network error would make it, `Image` fails at once.
 */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { createServer } from 'node:http';
import { listenLocal } from '../support/local-server.js';
import { eachTestAFreshPage, failingImages, freshEntry, keptCount, until } from './support/page-load.js';
import { formPairs, startRecorder, TRACKING_ANSWER, type Recorder } from './support/recorder.js';
import { HIT_ID_PARAM, HIT_ID_PATTERN, QUEUED_DELIVERED_EVENT, QUEUE_KEY_PREFIX, QUEUE_LEASE_KEY } from '../../src/protocol/wire.js';
import type { SendResult } from '../../src/browser/index.js';

let server: Recorder;
/** A URL where nothing listens: every request to it is a network error before any answer. */
let closedUrl: string;
const events = () => server.requests.filter((r) => r.path === '/mtc/event');
const param = (body: string, name: string) => formPairs(body).find(([key]) => key === name)?.[1];

beforeAll(async () => {
  server = await startRecorder();
  const closed = await listenLocal(createServer());
  closedUrl = closed.url;
  await closed.close();
});
afterAll(() => server.close());
eachTestAFreshPage(() => server);
// A page load's queue keeps listening for `online` and `storage` after its test (it has no way to
// stop), so a later test's kept sends may be delivered by an earlier test's queue, with that
// tracker's timeout: no tracker here has one a loaded machine could miss.


/** Collects the queued-delivered events of the page. */
function queuedDeliveries() {
  const seen: Array<{ event: string; params: Record<string, string>; queued: boolean }> = [];
  document.addEventListener(QUEUED_DELIVERED_EVENT, (event) => seen.push((event as CustomEvent).detail));
  return seen;
}



test('through the proxy: a 5xx send is kept (queued: true), retried with the same mt_hit_id once the proxy answers, and announced once', async () => {
  const { createTracker } = await freshEntry();
  const delivered = queuedDeliveries();
  server.answer('/mtc/event', { status: 503, body: '{"error":"upstream_error"}' });
  const tracker = createTracker({ url: server.url, proxy: true, timeout: 3000 });
  const result = await tracker.pageview({ step: 'one' });
  expect(result).toMatchObject({ ok: false, queued: true });
  expect((result as { error: Error & { queued?: true } }).error.queued).toBe(true);
  expect(keptCount()).toBe(1);
  const firstId = param(events()[0]!.body, HIT_ID_PARAM)!;
  expect(firstId).toMatch(HIT_ID_PATTERN);

  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  await until(() => delivered.length === 1);
  const posts = events();
  // Every try carried the same id, so the proxy records it once however many tries reached it.
  expect(new Set(posts.map((r) => param(r.body, HIT_ID_PARAM)))).toEqual(new Set([firstId]));
  expect(delivered[0]).toMatchObject({ event: 'pageview', queued: true, params: { step: 'one' } });
  expect(keptCount()).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(delivered).toHaveLength(1);
  console.log(`proxy 5xx: sends 1, tries ${posts.length}, delivered ${delivered.length}, hit ids ${new Set(posts.map((r) => param(r.body, HIT_ID_PARAM))).size}`);
});

test('through the proxy: a 4xx (the hit itself refused) is not kept, so it cannot block the queue', async () => {
  const { createTracker } = await freshEntry();
  failingImages();
  server.answer('/mtc/event', { status: 400, body: '{"error":"bad_request"}' });
  const result = await createTracker({ url: server.url, proxy: true, timeout: 3000 }).pageview();
  expect(result.ok).toBe(false);
  expect((result as { queued?: true }).queued).toBeUndefined();
  expect(keptCount()).toBe(0);
});

test('call order: sends made while earlier ones are kept join the queue and are delivered after them, with the device id learnt from the first', async () => {
  const { createTracker } = await freshEntry();
  const delivered = queuedDeliveries();
  server.answer('/mtc/event', { status: 503, body: '{}' });
  const tracker = createTracker({ url: server.url, proxy: true, timeout: 3000 });
  const results: SendResult[] = [];
  for (const step of ['a', 'b', 'c']) results.push(await tracker.pageview({ step }));
  expect(results.map((r) => r.ok === false && r.queued)).toEqual([true, true, true]);
  // Only the first was tried: the others joined the queue behind it, and only the head is retried.
  expect(new Set(events().map((r) => param(r.body, 'step')))).toEqual(new Set(['a']));
  expect(keptCount()).toBe(3);

  server.requests.length = 0;
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  await until(() => delivered.length === 3);
  const delivering = events().filter((r) => r.answeredAt);
  expect(delivering.map((r) => param(r.body, 'step'))).toEqual(['a', 'b', 'c']);
  expect(delivering.map((r) => param(r.body, 'counter'))).toEqual(['0', '1', '2']);
  // A new visitor: the first kept hit has no device id, the later ones carry the one it taught.
  expect(param(delivering[0]!.body, 'mautic_device_id')).toBeUndefined();
  expect(delivering.slice(1).map((r) => param(r.body, 'mautic_device_id'))).toEqual(['k3j9x0c1m2n4b5v6z7a8s9d', 'k3j9x0c1m2n4b5v6z7a8s9d']);
  expect(keptCount()).toBe(0);
});

test('a new page load delivers what an earlier one kept, before its own first send', async () => {
  {
    const { createTracker } = await freshEntry();
    // The 503 (not a timeout) keeps it: a try the page timed out on could still reach the server
    // after the count below is reset. The pixel fails at once, as it would with the network down.
    failingImages();
    server.answer('/mtc/event', { status: 503, body: '{}' });
    await createTracker({ url: server.url, proxy: true, timeout: 3000 }).pageview({ page: 'old' });
    expect(keptCount()).toBe(1);
    window.dispatchEvent(new Event('pagehide'));
  }
  server.requests.length = 0;
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.cores'));
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.queues'));
  vi.resetModules();
  const { createTracker } = await freshEntry();
  const delivered = queuedDeliveries();
  const result = await createTracker({ url: server.url, proxy: true, timeout: 5000 }).pageview({ page: 'new' });
  // Kept behind the old one (call order), then both delivered by the queue.
  expect(result).toMatchObject({ ok: false, queued: true });
  await until(() => delivered.length === 2);
  expect(events().map((r) => param(r.body, 'page'))).toEqual(['old', 'new']);
});

test('straight to Mautic: a 5xx answer may have been recorded, so the send fails as before and nothing is kept', async () => {
  const { createTracker } = await freshEntry();
  failingImages();
  server.answer('/mtc/event', { status: 500, body: 'oops', type: 'text/plain' });
  // Long enough for the 500 to come back: a timeout would end the send before the POST was read.
  const result = await createTracker({ url: server.url, timeout: 5000 }).pageview();
  expect(result.ok).toBe(false);
  expect((result as { queued?: true }).queued).toBeUndefined();
  expect(keptCount()).toBe(0);
  // No hit id goes to Mautic.
  expect(param(events()[0]!.body, HIT_ID_PARAM)).toBeUndefined();
});

test('straight to Mautic: a network error on the POST and the pixel (nothing listening) is kept and delivered, without a hit id, once Mautic is back', async () => {
  const { createTracker } = await freshEntry();
  failingImages();
  const delivered = queuedDeliveries();
  // Unreachable Mautic: the tracker's URL points at a closed port, which the queue's entry keeps;
  // "back up" is the same entry redirected to the live server (only the host differs).
  // Straight to Mautic a delivery try that times out may have reached it, so it is dropped: the
  // timeout must be far above what a loaded machine takes to answer on loopback.
  const result = await createTracker({ url: closedUrl, timeout: 5000 }).pageview({ step: 'down' });
  expect(result).toMatchObject({ ok: false, queued: true });
  expect(keptCount()).toBe(1);
  const key = Object.keys(localStorage).find((k) => k.startsWith(QUEUE_KEY_PREFIX))!;
  const entry = JSON.parse(localStorage.getItem(key)!) as { u: string; x: string; h?: 1 };
  expect(entry.h).toBeUndefined();
  localStorage.setItem(key, JSON.stringify({ ...entry, u: entry.u.replace(closedUrl, server.url), x: entry.x.replace(closedUrl, server.url) }));
  window.dispatchEvent(new Event('online'));
  await until(() => delivered.length === 1);
  expect(events()).toHaveLength(1);
  expect(param(events()[0]!.body, 'step')).toBe('down');
  expect(param(events()[0]!.body, HIT_ID_PARAM)).toBeUndefined();
});

test('offline: sends are kept without a try, and the online event delivers them in order', async () => {
  const { createTracker } = await freshEntry();
  const delivered = queuedDeliveries();
  const online = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  // Straight to Mautic: a delivery try that timed out would be dropped (it may have been recorded).
  const tracker = createTracker({ url: server.url, timeout: 5000 });
  const results = [await tracker.pageview({ n: 1 }), await tracker.event('Video', 'play')];
  expect(results.map((r) => r.ok === false && r.queued)).toEqual([true, true]);
  expect(server.requests).toHaveLength(0);
  online.mockReturnValue(true);
  window.dispatchEvent(new Event('online'));
  await until(() => delivered.length === 2);
  expect(delivered.map((d) => d.event)).toEqual(['pageview', 'event']);
  expect(events().map((r) => param(r.body, 'counter'))).toEqual(['0', '1']);
});

test('bounds: a long outage keeps only the newest maxSends; the oldest are dropped first, with a debug warning each', async () => {
  const { createTracker } = await freshEntry();
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  const tracker = createTracker({ url: server.url, timeout: 5000, debug: true, durable: { maxSends: 3 } });
  for (let n = 1; n <= 5; n++) await tracker.pageview({ n });
  expect(keptCount()).toBe(3);
  const kept = Object.keys(localStorage)
    .filter((key) => key.startsWith(QUEUE_KEY_PREFIX))
    .map((key) => JSON.parse(localStorage.getItem(key)!) as { p: Record<string, string> })
    .map((entry) => entry.p.n)
    .sort();
  expect(kept).toEqual(['3', '4', '5']);
  const drops = warn.mock.calls.filter(([message]) => String(message).includes('dropped a kept send'));
  expect(drops.map(([, params]) => (params as Record<string, string>).n)).toEqual(['1', '2']);
});

test('bounds: kept sends older than maxAgeMs are dropped, not delivered', async () => {
  const { createTracker } = await freshEntry();
  const stale = { i: 'a'.repeat(32), t: Date.now() - 10_000, s: 0, k: 'pageview', u: server.url + '/mtc/event', x: server.url + '/mtracking.gif', p: { page_url: 'stale' } };
  localStorage.setItem(QUEUE_KEY_PREFIX + stale.i, JSON.stringify(stale));
  const result = await createTracker({ url: server.url, timeout: 5000, durable: { maxAgeMs: 5000 } }).pageview({ fresh: 1 });
  expect(result.ok).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(events().map((r) => param(r.body, 'page_url'))).not.toContain('stale');
  expect(keptCount()).toBe(0);
});

test('tabs: while another tab holds the lease this one delivers nothing; once it is given up, this tab delivers', async () => {
  const { createTracker } = await freshEntry();
  const delivered = queuedDeliveries();
  localStorage.setItem(QUEUE_LEASE_KEY, 'othertab ' + (Date.now() + 60_000));
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  // Straight to Mautic: a delivery try that timed out would be dropped (it may have been recorded).
  const tracker = createTracker({ url: server.url, timeout: 5000 });
  await tracker.pageview({ n: 1 });
  vi.restoreAllMocks();
  window.dispatchEvent(new Event('online'));
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(server.requests).toHaveLength(0);
  // The other tab goes away: its pagehide removes the lease; this tab hears it (a storage event).
  localStorage.removeItem(QUEUE_LEASE_KEY);
  window.dispatchEvent(new StorageEvent('storage', { key: QUEUE_LEASE_KEY, newValue: null }));
  await until(() => delivered.length === 1);
  expect(events()).toHaveLength(1);
});

test('durable: false keeps nothing: a failed send is lost, as with Mautic\'s script', async () => {
  const { createTracker } = await freshEntry();
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  failingImages();
  server.answer('/mtc/event', { status: 503, body: '{}' });
  // Long enough for the POST to reach the server and its 503 to come back (read below).
  const result = await createTracker({ url: server.url, timeout: 3000, proxy: true, durable: false }).pageview();
  expect(result.ok).toBe(false);
  expect((result as { queued?: true }).queued).toBeUndefined();
  expect(keptCount()).toBe(0);
  expect(param(events()[0]!.body, HIT_ID_PARAM)).toBeUndefined();
});
