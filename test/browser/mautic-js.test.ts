// @vitest-environment jsdom
/**
 * installMauticJS (src/browser/mautic-js.ts) on its own, driven by `mauticPageEventDelivered`
 * events as the tracker dispatches them, against a real HTTP server standing in for Mautic: which
 * slots are asked for and how, and the `MauticJS` calls. (A listener of an earlier test stays on
 * the document, so each test asserts only what a second listener cannot change.)
 */
import { afterAll, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { until } from './support/page-load.js';
import { startRecorder, type Recorder } from './support/recorder.js';
import type { TrackerConfig } from '../../src/browser/types.js';

const page = window as unknown as { MauticJS?: unknown };
let server: Recorder;
let config: TrackerConfig;

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(async () => {
  server.requests.length = 0;
  localStorage.clear();
  document.head.innerHTML = '';
  document.body.innerHTML = '';
  delete page.MauticJS;
  vi.resetModules();
  config = { _url: server.url, _timeout: 5000, _debug: false };
  const { installMauticJS } = await import('../../src/browser/mautic-js.js');
  installMauticJS(config);
});

const deliver = (detail: unknown) => document.dispatchEvent(new CustomEvent('mauticPageEventDelivered', { detail }));
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

test('slots: encoded names, one request per element, none for unnamed or nested slots, the fallback on 204', async () => {
  server.answer('/dwc/a%2Fb%20c', { status: 200, body: JSON.stringify({ content: '<i>for a/b c</i>', id: 5, sid: 'dev5', device_id: 'dev5' }) });
  server.answer('/dwc/empty', { status: 204, body: '' });
  document.body.innerHTML = `<div id="one" class="mautic-slot" data-slot-name="a/b c">one</div>
<div id="two" data-slot="dwc" data-param-slot-name="empty">two</div>
<div id="unnamed" class="mautic-slot">unnamed</div>
<div class="mautic-slot" data-slot-name="outer-not-asked-twice"><span class="mautic-slot" data-slot-name="nested">nested</span></div>`;
  server.answer('/dwc/outer-not-asked-twice', { status: 204, body: '' });
  deliver({ ok: true, event: 'pageview', params: { page_url: 'https://site.example/p?x=1', counter: '0' } });
  await server.waitFor(3, (r) => r.path.startsWith('/dwc/'));
  // The page fills the slot once it has read the answer, which follows the request's arrival.
  await until(() => document.getElementById('one')!.innerHTML === '<i>for a/b c</i>');
  await settle();

  const asked = server.requests.filter((r) => r.path.startsWith('/dwc/'));
  expect(asked.map((r) => r.path).sort()).toEqual(['/dwc/a%2Fb%20c', '/dwc/empty', '/dwc/outer-not-asked-twice']);
  expect(asked.every((r) => r.method == 'GET' && r.headers['x-requested-with'] == 'XMLHttpRequest')).toBe(true);
  expect(Object.fromEntries(new URLSearchParams(asked[0]!.search))).toEqual({ page_url: 'https://site.example/p?x=1', counter: '0' });
  expect(document.getElementById('one')!.innerHTML).toBe('<i>for a/b c</i>');
  expect(document.getElementById('two')!.textContent).toBe('two');
  expect(document.getElementById('unnamed')!.textContent).toBe('unnamed');
  // The answer's ids are stored, and later slot requests carry the device id.
  expect(localStorage.getItem('mtc_id')).toBe('5');
  document.body.insertAdjacentHTML('beforeend', '<div id="three" class="mautic-slot" data-slot-name="empty">three</div>');
  await server.waitFor(4, (r) => r.path.startsWith('/dwc/'));
  await settle();
  const later = server.requests.filter((r) => r.path.startsWith('/dwc/'));
  expect(later).toHaveLength(4);
  expect(new URLSearchParams(later[3]!.search).get('mautic_device_id')).toBe('dev5');
});

test('MauticJS: only the four calls, and onFirstEventDelivery callbacks run once each, errors kept inside', async () => {
  const api = page.MauticJS as Record<string, (...args: unknown[]) => void>;
  expect(Object.keys(api).sort()).toEqual(['documentReady', 'getTrackedContact', 'onFirstEventDelivery', 'setTrackedContact']);
  const seen: string[] = [];
  api.onFirstEventDelivery!(() => {
    throw new Error('site bug');
  });
  api.onFirstEventDelivery!((detail: { event: string }) => seen.push('early:' + detail.event));
  api.onFirstEventDelivery!('not a function');
  deliver({ ok: true, event: 'pageview', params: {} });
  deliver({ ok: true, event: 'event', params: {} });
  api.onFirstEventDelivery!((detail: { event: string }) => seen.push('late:' + detail.event));
  expect(seen).toEqual(['early:pageview', 'late:pageview']);
});
