// @vitest-environment jsdom
/**
 * Consent, Do Not Track and Global Privacy Control (src/browser/consent.ts) through the two real
 * front doors, `mt()` and `createTracker`, against a real HTTP server on 127.0.0.1: what is sent
 * and what is stored before and after each decision, and every send settling exactly once.
 *
 * Each test imports the SDK afresh: the consent state is per page (a page load), and a tracker
 * left undecided by one test must not block storage in the next.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import type { SendResult } from '../../src/browser/index.js';
import type { TrackerConfig } from '../../src/browser/types.js';
import { until } from './support/page-load.js';
import { startRecorder, TRACKING_ANSWER, type Recorder } from './support/recorder.js';

type Sdk = typeof import('../../src/browser/index.js');
type Log = { name: string; kind: 'onload' | 'onerror'; arg: unknown }[];

let server: Recorder;
let sdk: Sdk;
const events = () => server.requests.filter((q) => q.path === '/mtc/event');
const DEVICE = 'k3j9x0c1m2n4b5v6z7a8s9d';

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(async () => {
  server.requests.length = 0;
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
  localStorage.clear();
  for (const name of ['mtc_id', 'mautic_device_id', 'other']) document.cookie = name + '=;path=/;max-age=0';
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.cores'));
  Reflect.deleteProperty(window, 'MauticJS');
  vi.resetModules();
  sdk = await import('../../src/browser/index.js');
});
afterEach(() => {
  vi.restoreAllMocks();
  Reflect.deleteProperty(navigator, 'globalPrivacyControl');
  Reflect.deleteProperty(navigator, 'doNotTrack');
});

/** The runner and core as the script tag builds them, with a log of every callback call. */
async function scriptTag(config: Record<string, unknown> = {}) {
  const { createCore } = await import('../../src/browser/tracker.js');
  const { createCommandRunner } = await import('../../src/browser/commands.js');
  const settings = { _url: server.url, _timeout: 5000 } as TrackerConfig;
  const mt = createCommandRunner(createCore(settings), settings);
  mt('config', config);
  const log: Log = [];
  const cb = (name: string) => ({
    onload: (arg: unknown) => log.push({ name, kind: 'onload', arg }),
    onerror: (arg: unknown) => log.push({ name, kind: 'onerror', arg }),
  });
  return { mt, log, cb };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves once `name` settled in `log` (the answer was handled, ids stored). */
async function settledIn(log: Log, name: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!log.some((e) => e.name === name)) {
    if (Date.now() - start > timeoutMs) throw new Error(`${name} never settled: ${JSON.stringify(log)}`);
    await wait(10);
  }
}
/** Long enough for a stray request or a second callback to show up on loopback. */
const QUIET_MS = 300;
const stored = () => ({ contact: localStorage.getItem('mtc_id'), device: localStorage.getItem('mautic_device_id'), cookie: document.cookie });
const NOTHING = { contact: null, device: null, cookie: '' };

function signal(name: 'globalPrivacyControl' | 'doNotTrack', value: unknown) {
  Object.defineProperty(navigator, name, { value, configurable: true });
}

test('consent required: nothing sent or stored before the grant; after it the held sends go in order, each settles once', async () => {
  const { mt, log, cb } = await scriptTag({ consent: 'required' });
  mt('send', 'pageview', { step: 1 }, cb('pv'));
  mt('send', 'event', 'Video', 'play', '', '', {}, cb('ev'));
  await wait(QUIET_MS);
  expect(server.requests).toHaveLength(0);
  expect(stored()).toEqual(NOTHING);
  expect(log).toEqual([]);

  mt('consent', 'grant');
  await settledIn(log, 'ev');
  await wait(QUIET_MS);
  const [pageview, event] = events();
  expect(pageview!.body).toContain('step=1');
  // The gate: the event waited for the pageview's answer and carries the device id it taught.
  expect(event!.at).toBeGreaterThanOrEqual(pageview!.answeredAt!);
  expect(event!.body).toContain('mautic_device_id=' + DEVICE);
  expect(event!.body).toContain('mt_action%3Dplay');
  expect(log.map((e) => [e.name, e.kind])).toEqual([
    ['pv', 'onload'],
    ['ev', 'onload'],
  ]);
  expect(stored()).toMatchObject({ contact: '42', device: DEVICE });
  // After the grant, sends go at once.
  mt('send', 'pageview', { step: 2 }, cb('pv2'));
  await settledIn(log, 'pv2');
  expect(events()).toHaveLength(3);
});

test('a held send keeps what it read at the call (URL, title), not what the page shows at the grant', async () => {
  const { mt, log, cb } = await scriptTag({ consent: 'required' });
  document.title = 'Landing';
  history.replaceState(null, '', '/landing?utm_source=news');
  mt('send', 'pageview', {}, cb('pv'));
  document.title = 'Later';
  history.replaceState(null, '', '/later');
  mt('consent', 'grant');
  await settledIn(log, 'pv');
  const [hit] = events();
  expect(hit!.body).toContain('page_title=Landing');
  expect(hit!.body).toContain('utm_source%3Dnews');
});

test('deny: held sends settle onerror(Error("consent")) at once, nothing is sent, and the stored ids and cookies are removed', async () => {
  localStorage.setItem('mtc_id', '7');
  localStorage.setItem('mautic_device_id', DEVICE);
  document.cookie = 'mtc_id=7;path=/';
  document.cookie = 'mautic_device_id=' + DEVICE + ';path=/';
  document.cookie = 'other=kept;path=/';
  const { mt, log, cb } = await scriptTag({ consent: 'required' });
  mt('send', 'pageview', {}, cb('pv'));
  mt('consent', 'deny');
  await wait(QUIET_MS);
  expect(server.requests).toHaveLength(0);
  expect(log).toHaveLength(1);
  expect(log[0]).toMatchObject({ name: 'pv', kind: 'onerror' });
  expect((log[0]!.arg as Error).message).toBe('consent');
  expect(stored()).toEqual({ contact: null, device: null, cookie: 'other=kept' });
  // Later sends are refused at once too.
  mt('send', 'event', 'a', 'b', '', '', {}, cb('ev'));
  await wait(10);
  expect(log.map((e) => [e.name, e.kind])).toEqual([
    ['pv', 'onerror'],
    ['ev', 'onerror'],
  ]);
  expect(server.requests).toHaveLength(0);
});

test('deny after a grant: tracking stops, ids go, and an answer still on the wire stores nothing', async () => {
  server.answer('/mtc/event', { status: 200, body: TRACKING_ANSWER, delayMs: 300 });
  const tracker = sdk.createTracker({ url: server.url, consent: 'required', mauticJS: false });
  tracker.consent('grant');
  const first = tracker.pageview();
  await server.waitFor(1);
  tracker.consent('deny');
  expect((await first).ok).toBe(true);
  expect(stored()).toEqual(NOTHING);
  const refused = await tracker.event('Video', 'play');
  expect(refused).toMatchObject({ ok: false });
  expect((refused as { error: Error }).error.message).toBe('consent');
  expect(events()).toHaveLength(1);
});

test('no decision within the timeout: onerror(Error("timeout")) once; a later grant still sends it, with the delivered event only', async () => {
  const { mt, log, cb } = await scriptTag({ consent: 'required', timeout: 200 });
  const delivered: unknown[] = [];
  document.addEventListener('mauticPageEventDelivered', (e) => delivered.push((e as CustomEvent).detail));
  mt('send', 'pageview', { late: 1 }, cb('pv'));
  await wait(400);
  expect(log.map((e) => [e.name, e.kind, (e.arg as Error).message])).toEqual([['pv', 'onerror', 'timeout']]);
  expect(server.requests).toHaveLength(0);
  // The grant starts the send with the timeout read then: 200 ms is too short for a loaded machine
  // to deliver it, and the delivered event follows the answer, not the request's arrival.
  mt('config', { timeout: 5000 });
  mt('consent', 'grant');
  await server.waitFor(1, (q) => q.path === '/mtc/event');
  await until(() => delivered.length > 0);
  await wait(QUIET_MS);
  expect(events()[0]!.body).toContain('late=1');
  expect(delivered).toHaveLength(1);
  expect(log).toHaveLength(1);
});

test('the npm promise of a held send resolves once: with the delivery after a timely grant', async () => {
  const tracker = sdk.createTracker({ url: server.url, consent: 'required', mauticJS: false });
  const pending = tracker.pageview({ a: 1 });
  await wait(50);
  tracker.consent('grant');
  expect(await pending).toMatchObject({ ok: true, via: 'post', event: 'pageview' });
  expect(stored()).toMatchObject({ contact: '42', device: DEVICE });
});

test(`at most HELD_SEND_LIMIT (${20}) sends are held; later ones are refused at once`, async () => {
  expect(sdk.HELD_SEND_LIMIT).toBe(20);
  const { mt, log, cb } = await scriptTag({ consent: 'required' });
  for (let i = 0; i < sdk.HELD_SEND_LIMIT + 2; i++) mt('send', 'event', 'c', 'a' + i, '', '', {}, cb('e' + i));
  await wait(10);
  expect(log.map((e) => e.name)).toEqual(['e20', 'e21']);
  expect(log.every((e) => e.kind === 'onerror' && (e.arg as Error).message === 'consent')).toBe(true);
  mt('consent', 'grant');
  await server.waitFor(sdk.HELD_SEND_LIMIT, (q) => q.path === '/mtc/event');
  await wait(QUIET_MS);
  expect(events()).toHaveLength(sdk.HELD_SEND_LIMIT);
  const actions = events().map((q) => /mt_action%3D(a\d+)/.exec(q.body)![1]);
  // The first goes alone (the gate); the others together once it settled, so they may arrive in any order.
  expect(actions[0]).toBe('a0');
  expect([...actions].sort()).toEqual(Array.from({ length: 20 }, (_, i) => 'a' + i).sort());
});

test('identify waits for consent too, and MauticJS asks Mautic for no ids before it', async () => {
  const { mt } = await scriptTag({ consent: 'required' });
  const { installMauticJS } = await import('../../src/browser/mautic-js.js');
  installMauticJS({ _url: server.url, _timeout: 5000, _debug: false });
  mt('identify', { email: 'a@example.com' });
  (window as unknown as { MauticJS: { getTrackedContact(): void; setTrackedContact(r: unknown): void } }).MauticJS.getTrackedContact();
  (window as unknown as { MauticJS: { setTrackedContact(r: unknown): void } }).MauticJS.setTrackedContact({ id: 9, device_id: DEVICE });
  await wait(QUIET_MS);
  expect(server.requests).toHaveLength(0);
  expect(stored()).toEqual(NOTHING);
  mt('consent', 'grant');
  await server.waitFor(1, (q) => q.path === '/identify');
  await wait(QUIET_MS);
});

test.each([
  ['globalPrivacyControl', true, 'honorGpc'],
  ['doNotTrack', '1', 'honorDnt'],
] as const)('navigator.%s = %s: no hit, nothing stored, even after a grant; %s: false sends', async (name, value, option) => {
  signal(name, value);
  const { mt, log, cb } = await scriptTag();
  mt('send', 'pageview', {}, cb('pv'));
  mt('consent', 'grant');
  mt('send', 'pageview', { again: 1 }, cb('pv2'));
  await wait(QUIET_MS);
  expect(server.requests).toHaveLength(0);
  expect(stored()).toEqual(NOTHING);
  expect(log.map((e) => [e.name, e.kind, (e.arg as Error).message])).toEqual([
    ['pv', 'onerror', 'consent'],
    ['pv2', 'onerror', 'consent'],
  ]);

  mt('config', { [option]: false });
  mt('send', 'pageview', { honoured: 'no' }, cb('pv3'));
  await settledIn(log, 'pv3');
  expect(log.at(-1)!.kind).toBe('onload');
  expect(stored()).toMatchObject({ contact: '42', device: DEVICE });
});

test('the other signal values are no signal: doNotTrack "0" or null, globalPrivacyControl false', async () => {
  signal('doNotTrack', '0');
  signal('globalPrivacyControl', false);
  const result = await sdk.createTracker({ url: server.url, mauticJS: false }).pageview();
  expect(result.ok).toBe(true);
});

test('npm options: honorGpc: false and honorDnt: false', async () => {
  signal('globalPrivacyControl', true);
  signal('doNotTrack', '1');
  const result: SendResult = await sdk.createTracker({ url: server.url, honorGpc: false, honorDnt: false, mauticJS: false }).pageview();
  expect(result.ok).toBe(true);
  expect(events()[0]!.body).toContain('do_not_track=true');
});

test('a deny without consent mode is an opt-out; consent: "required" afterwards does not undo it', async () => {
  const { mt, log, cb } = await scriptTag();
  mt('consent', 'deny');
  mt('config', { consent: 'required' });
  mt('send', 'pageview', {}, cb('pv'));
  await wait(10);
  expect(log.map((e) => [e.kind, (e.arg as Error).message])).toEqual([['onerror', 'consent']]);
  expect(server.requests).toHaveLength(0);
});

test('odd decisions and odd consent values are ignored', async () => {
  const { mt, log, cb } = await scriptTag({ consent: 'yes please' });
  mt('consent', 'maybe');
  mt('consent');
  mt('consent', { toString: () => 'grant' });
  mt('send', 'pageview', {}, cb('pv'));
  await settledIn(log, 'pv');
  await wait(50);
  expect(log.map((e) => e.kind)).toEqual(['onload']);
});

test('two trackers of a page share one consent state; the first one’s consent option applies', async () => {
  const first = sdk.createTracker({ url: server.url, consent: 'required', mauticJS: false });
  const second = sdk.createTracker({ url: server.url + '/', mauticJS: false });
  const held = second.pageview();
  await wait(QUIET_MS);
  expect(server.requests).toHaveLength(0);
  first.consent('grant');
  expect((await held).ok).toBe(true);
});

test('the server-side tracker has consent() too, and it does nothing', async () => {
  const { createTracker } = sdk;
  vi.stubGlobal('window', undefined);
  const tracker = createTracker({ url: server.url, consent: 'required' });
  vi.unstubAllGlobals();
  expect(() => tracker.consent('grant')).not.toThrow();
});
