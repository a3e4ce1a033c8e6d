// @vitest-environment jsdom
/**
 * Campaign actions (src/browser/campaign-events.ts) through installMauticJS, driven by
 * `mauticPageEventDelivered` events as the tracker dispatches them: which focus scripts may be
 * inserted (the configured origin only, each URL once), and that odd events stay harmless.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRecorder, type Recorder } from './support/recorder.js';
import { forwardAnalytics } from '../../src/browser/campaign-events.js';
import { installMauticJS } from '../../src/browser/mautic-js.js';

let server: Recorder;

beforeAll(async () => {
  server = await startRecorder();
  // As the npm entry installs it; dist/mtc.js leaves the analytics forwarding out (its size budget).
  installMauticJS({ _url: server.url, _timeout: 5000, _debug: false }, forwardAnalytics);
});
afterAll(() => server.close());

const deliver = (detail: unknown) => document.dispatchEvent(new CustomEvent('mauticPageEventDelivered', { detail }));

test('only scripts on the configured origin are inserted, each once; odd events change nothing', () => {
  deliver(null);
  deliver({ response: { events: { focus_item: null } } });
  const events = {
    focus_item: [
      { id: 1, js: 'http://evil.test/focus/1.js' },
      { id: 2, js: `${server.url}/focus/2.js` },
      { id: 3, js: `${server.url.replace('127.0.0.1', 'localhost')}/focus/3.js` },
      { id: 4, js: 'javascript:alert(1)' },
      { js: `${server.url}/focus/5.js` },
    ],
  };
  deliver({ ok: true, event: 'pageview', params: {}, response: { events } });
  deliver({ ok: true, event: 'pageview', params: {}, response: { events } });
  const sources = [...document.querySelectorAll('script')].map((script) => script.getAttribute('src'));
  expect(sources).toEqual([`${server.url}/focus/2.js`]);
});

test('fbq and gtag get the entries when they are functions; a throwing one keeps the focus items', () => {
  const calls: unknown[][] = [];
  const host = window as unknown as Record<string, unknown>;
  host.fbq = (...args: unknown[]) => calls.push(['fbq', ...args]);
  host.gtag = () => {
    throw new Error('broken gtag');
  };
  deliver({
    response: {
      events: {
        focus_item: [{ id: 6, js: `${server.url}/focus/6.js` }],
        facebook_pixel: [{ action: 'Signup', label: 'trial' }, { label: 'no action' }],
        google_analytics: [{ category: 'c', action: 'a', label: 'l' }],
      },
    },
  });
  expect(calls).toEqual([['fbq', 'trackCustom', 'Signup', { eventLabel: 'trial' }]]);
  expect(document.querySelector(`script[src="${server.url}/focus/6.js"]`)).not.toBeNull();
  delete host.fbq;
  delete host.gtag;
});

test('Google Analytics entries: gtag when the page has it, else ga as Mautic’s script calls it, else nothing', () => {
  const calls: unknown[][] = [];
  const host = window as unknown as Record<string, unknown>;
  const entries = { google_analytics: [{ category: 'Campaign', action: 'Opened', label: 'spring' }] };
  host.ga = (...args: unknown[]) => calls.push(['ga', ...args]);
  host.gtag = (...args: unknown[]) => calls.push(['gtag', ...args]);
  deliver({ response: { events: entries } });
  delete host.gtag;
  deliver({ response: { events: entries } });
  delete host.ga;
  expect(() => deliver({ response: { events: entries } })).not.toThrow();
  expect(calls).toEqual([
    ['gtag', 'event', 'Opened', { event_category: 'Campaign', event_label: 'spring' }],
    ['ga', 'send', { hitType: 'event', eventCategory: 'Campaign', eventAction: 'Opened', eventLabel: 'spring' }],
  ]);
});
