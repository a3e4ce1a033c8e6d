// @vitest-environment jsdom
/**
 * Consent and the durable send queue (issue 15 item 5, issue 14) through the npm entry, against a
 * real HTTP server on 127.0.0.1: before consent (when consent is required) nothing is written to
 * the visitor's storage, not even by the queue; a deny removes every kept send and the queue's
 * lease, and nothing kept is delivered after it.
 *
 * Each test is a fresh page load: the modules are imported anew (queue and consent state are per
 * page), and storage is cleared.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eachTestAFreshPage, failingImages, freshEntry, keptCount, until } from './support/page-load.js';
import { formPairs, startRecorder, TRACKING_ANSWER, type Recorder } from './support/recorder.js';
import { QUEUE_KEY_PREFIX, QUEUE_LEASE_KEY } from '../../src/protocol/wire.js';

let server: Recorder;
const events = () => server.requests.filter((r) => r.path === '/mtc/event');
const param = (body: string, name: string) => formPairs(body).find(([key]) => key === name)?.[1];
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
eachTestAFreshPage(() => server);




test('consent required: nothing is stored before the grant, failed sends are kept after it, and a deny removes every kept send and the lease', async () => {
  const { createTracker } = await freshEntry();
  failingImages();
  server.answer('/mtc/event', { status: 503, body: '{"error":"upstream_error"}' });
  const tracker = createTracker({ url: server.url, proxy: true, timeout: 3000, consent: 'required', mauticJS: false });
  const held = ['a', 'b', 'c'].map((step) => tracker.pageview({ step }));
  await wait(400);
  expect(events()).toHaveLength(0);
  // Nothing at all: no kept send, no lease, no id.
  expect(Object.keys(localStorage)).toEqual([]);

  tracker.consent('grant');
  const results = await Promise.all(held);
  expect(results.map((r) => r.ok === false && r.queued)).toEqual([true, true, true]);
  expect(keptCount()).toBe(3);
  // The queue retries the head, holding the delivery lease.
  await until(() => localStorage.getItem(QUEUE_LEASE_KEY) !== null);
  const triesBeforeDeny = events().length;

  tracker.consent('deny');
  // The decision takes its turn after the sends called before it (a microtask or two).
  await wait(50);
  expect(keptCount()).toBe(0);
  expect(localStorage.getItem(QUEUE_LEASE_KEY)).toBeNull();
  expect(Object.keys(localStorage)).toEqual([]);

  // Mautic is back: nothing kept is delivered any more, and later sends are refused, not kept.
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  const later = await tracker.pageview({ step: 'd' });
  expect(later).toMatchObject({ ok: false, error: { message: 'consent' } });
  await wait(2500);
  expect(events()).toHaveLength(triesBeforeDeny);
  expect(Object.keys(localStorage)).toEqual([]);
  console.log(`consent + queue: held 3, stored before grant ${0}, kept after grant 3, tries ${triesBeforeDeny}, kept after deny ${keptCount()}, tries after deny ${events().length - triesBeforeDeny}`);
});

test('a send an earlier page load kept stays unread and undelivered until the grant, then goes first', async () => {
  // What an earlier page load (consent granted there) left after an outage, as the queue stores it.
  const old = { i: 'earlierpageload0001', t: Date.now() - 1000, s: 0, k: 'pageview', u: server.url + '/mtc/event', x: server.url + '/mtracking.gif', p: { page_url: 'http://localhost/old', counter: 0, page: 'old' }, h: 1 };
  localStorage.setItem(QUEUE_KEY_PREFIX + old.i, JSON.stringify(old));
  const { createTracker } = await freshEntry();
  const tracker = createTracker({ url: server.url, proxy: true, timeout: 3000, consent: 'required', mauticJS: false });
  const result = tracker.pageview({ page: 'new' });
  window.dispatchEvent(new Event('online'));
  await wait(500);
  expect(events()).toHaveLength(0);
  expect(keptCount()).toBe(1);

  tracker.consent('grant');
  await result;
  await until(() => events().filter((r) => r.answeredAt).length === 2);
  expect(events().map((r) => param(r.body, 'page'))).toEqual(['old', 'new']);
  // The server has answered; the page removes the kept send once it has read that answer.
  await until(() => keptCount() === 0);
});

test('a deny without consent mode (an opt-out) removes the sends an outage kept, and the queue delivers none of them', async () => {
  const { createTracker } = await freshEntry();
  server.answer('/mtc/event', { status: 503, body: '{}' });
  failingImages();
  // Long enough for the 503 to come back: a try the page timed out on could still reach the server
  // after `tries` is read below and count as a delivery after the deny.
  const tracker = createTracker({ url: server.url, proxy: true, timeout: 3000, mauticJS: false });
  for (const step of ['a', 'b']) await tracker.pageview({ step });
  expect(keptCount()).toBe(2);
  tracker.consent('deny');
  // The decision takes its turn after the sends called before it (a microtask or two).
  await wait(50);
  expect(keptCount()).toBe(0);
  expect(localStorage.getItem(QUEUE_LEASE_KEY)).toBeNull();
  const tries = events().length;
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  window.dispatchEvent(new Event('online'));
  await wait(2500);
  expect(events()).toHaveLength(tries);
});

test('Global Privacy Control: an outage keeps nothing, and no send is tried', async () => {
  Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
  try {
    const { createTracker } = await freshEntry();
    server.answer('/mtc/event', { status: 503, body: '{}' });
    const result = await createTracker({ url: server.url, proxy: true, timeout: 400, mauticJS: false }).pageview();
    expect(result).toMatchObject({ ok: false, error: { message: 'consent' } });
    expect(events()).toHaveLength(0);
    expect(Object.keys(localStorage)).toEqual([]);
  } finally {
    Reflect.deleteProperty(navigator, 'globalPrivacyControl');
  }
});

test('two trackers of a page: while one waits for consent, the other’s failed sends are not kept either (ids and queue need every tracker’s consent)', async () => {
  const { createTracker } = await freshEntry();
  failingImages();
  server.answer('/mtc/event', { status: 503, body: '{}' });
  const waiting = createTracker({ url: server.url + '/other', proxy: true, timeout: 3000, consent: 'required', mauticJS: false });
  const tracking = createTracker({ url: server.url, proxy: true, timeout: 3000, mauticJS: false });
  const result = await tracking.pageview({ step: 'a' });
  // Tried (this tracker may track), failed, and not kept: nothing may be stored on this page yet.
  expect(events()).toHaveLength(1);
  expect(result).toMatchObject({ ok: false });
  expect((result as { queued?: true }).queued).toBeUndefined();
  expect(Object.keys(localStorage)).toEqual([]);
  waiting.consent('grant');
  await wait(50);
  expect((await tracking.pageview({ step: 'b' })) as { queued?: true }).toMatchObject({ queued: true });
  expect(keptCount()).toBe(1);
});
