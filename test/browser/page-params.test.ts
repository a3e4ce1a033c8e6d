// @vitest-environment jsdom
// @vitest-environment-options {"url": "http://localhost:8098/p0?utm_source=news&utm_campaign=spring"}
/**
 * Default hit parameters from the page (docs/protocol.md §3), against the byte-exact body captured from
 * Mautic's own script. jsdom lacks a screen size and reports a lower-case platform, so the page
 * context of the capture (1920x1080, X11 Linux, Berlin, title "Pricing & Plans") is set up here.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEFAULT_HIT_KEYS, EVENT_URL_KEYS } from '../../src/protocol/wire.js';
import { encodeParams, mergeParams } from '../../src/browser/encode.js';
import { eventUrl, pageParams, platformOf, referrerHost } from '../../src/browser/page-params.js';

const SAMPLE =
  'page_title=Pricing%20%26%20Plans&page_language=en-US&preferred_locale=en_US&page_referrer=&page_url=http%3A%2F%2Flocalhost%3A8098%2Fp0%3Futm_source%3Dnews%26utm_campaign%3Dspring&counter=0&timezone_offset=-60&resolution=1920x1080&platform=Linux&do_not_track=false&timezone=Europe%2FBerlin&email=jane%40example.com&firstname=Jane&company=Acme&tags=a%2C-b';

const originalTz = process.env.TZ;

beforeAll(() => {
  process.env.TZ = 'Europe/Berlin';
  document.title = 'Pricing & Plans';
  Object.defineProperty(navigator, 'appVersion', { value: '5.0 (X11; Linux x86_64) AppleWebKit/537.36', configurable: true });
  Object.defineProperty(screen, 'width', { value: 1920, configurable: true });
  Object.defineProperty(screen, 'height', { value: 1080, configurable: true });
});

afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

test('the §3 sample body, byte for byte, for the same page and params', () => {
  expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe('Europe/Berlin');
  const params = mergeParams(pageParams(0, location.href, document.title), {
    email: 'jane@example.com',
    firstname: 'Jane',
    company: 'Acme',
    tags: 'a,-b',
  });
  // Berlin is UTC+1 in winter (the capture) and UTC+2 in summer: only that value follows the date.
  const offset = String(new Date().getTimezoneOffset());
  expect(['-60', '-120']).toContain(offset);
  expect(encodeParams(params)).toBe(SAMPLE.replace('timezone_offset=-60', `timezone_offset=${offset}`));
});

test('default keys come in the order of DEFAULT_HIT_KEYS; mautic_device_id only when known', () => {
  expect(Object.keys(pageParams(3, location.href, 'T'))).toEqual(DEFAULT_HIT_KEYS.filter((key) => key != 'mautic_device_id'));
  const withDevice = pageParams(3, location.href, 'T', 'abc123');
  expect(Object.keys(withDevice)).toEqual([...DEFAULT_HIT_KEYS]);
  expect(withDevice.mautic_device_id).toBe('abc123');
  expect(withDevice.counter).toBe('3');
});

test('custom keys follow the defaults; one named like a default replaces it in place', () => {
  const params = mergeParams(pageParams(0, location.href, 'T', 'dev1'), { zeta: 'z', page_title: 'Custom', mautic_device_id: 'mine' });
  const keys = Object.keys(params);
  expect(keys.slice(0, DEFAULT_HIT_KEYS.length)).toEqual([...DEFAULT_HIT_KEYS]);
  expect(keys.at(-1)).toBe('zeta');
  expect(params.page_title).toBe('Custom');
  expect(params.mautic_device_id).toBe('mine');
});

test('do_not_track is true when the browser says 1', () => {
  Object.defineProperty(navigator, 'doNotTrack', { value: '1', configurable: true });
  try {
    expect(pageParams(0, 'u', 't').do_not_track).toBe('true');
  } finally {
    Object.defineProperty(navigator, 'doNotTrack', { value: null, configurable: true });
  }
  expect(pageParams(0, 'u', 't').do_not_track).toBe('false');
});

test('platform: Win, Mac, X11, Linux are tested in that order and the last match wins', () => {
  expect(platformOf('5.0 (Windows NT 10.0; Win64; x64)')).toBe('Windows');
  expect(platformOf('5.0 (Macintosh; Intel Mac OS X 10_15_7)')).toBe('MacOS');
  expect(platformOf('5.0 (X11; CrOS x86_64)')).toBe('UNIX');
  expect(platformOf('5.0 (X11; Linux x86_64)')).toBe('Linux');
  // Android reports Linux; an iPhone reports "Mac OS X" inside its string.
  expect(platformOf('5.0 (Linux; Android 14)')).toBe('Linux');
  expect(platformOf('5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)')).toBe('MacOS');
  expect(platformOf('')).toBe('Unknown OS');
  expect(platformOf('5.0 (linux) jsdom')).toBe('Unknown OS');
});

test('the referrer is cut to host[:port], as Mautic does', () => {
  expect(referrerHost('')).toBe('');
  expect(referrerHost('https://www.google.com/search?q=x')).toBe('www.google.com');
  expect(referrerHost('http://localhost:8098/a/b')).toBe('localhost:8098');
  expect(referrerHost('https://user@host.example:8443')).toBe('user@host.example:8443');
});

test('an event URL carries mt_category, mt_action, mt_label, mt_value in its query, before the fragment', () => {
  expect(Object.values(EVENT_URL_KEYS)).toEqual(['mt_category', 'mt_action', 'mt_label', 'mt_value']);
  expect(eventUrl('https://s.example/p?a=1#top', 'Video', 'play')).toBe(
    'https://s.example/p?a=1&mt_category=Video&mt_action=play#top',
  );
  expect(eventUrl('https://s.example/p', 'Sign up', 'submit', 'hero form', 30)).toBe(
    'https://s.example/p?mt_category=Sign+up&mt_action=submit&mt_label=hero+form&mt_value=30',
  );
  // Empty values are omitted, 0 is a value.
  expect(eventUrl('https://s.example/p', '', 'click', null, 0)).toBe('https://s.example/p?mt_action=click&mt_value=0');
  // Objects are left out like everywhere else; nothing at all leaves the URL as it was.
  expect(eventUrl('https://s.example/p#x', {}, undefined, () => 1)).toBe('https://s.example/p#x');
});

test('event parts follow the value rules: NaN, Infinity, Promises, Maps, BigInt, Dates and junk array items are left out (issue 12)', () => {
  expect(eventUrl('https://s.example/p', NaN, Promise.resolve(), new Map(), Infinity)).toBe('https://s.example/p');
  expect(eventUrl('https://s.example/p', ['Video', {}, null], 'play', 10n, new Date(0))).toBe('https://s.example/p?mt_category=Video&mt_action=play');
  expect(eventUrl('https://s.example/p', 'c', 'a', 'l', -Infinity)).toBe('https://s.example/p?mt_category=c&mt_action=a&mt_label=l');
  const trap = () => {
    throw new Error('trap');
  };
  expect(eventUrl('https://s.example/p', new Proxy({}, { get: trap, ownKeys: trap }), 'a', 'l', 1.5)).toBe(
    'https://s.example/p?mt_action=a&mt_label=l&mt_value=1.5',
  );
});
