// @vitest-environment jsdom
/**
 * The visitor's ids in localStorage and first-party cookies (docs/protocol.md §5): valid ids only, never
 * the string "null", and storage that throws (Safari private mode, sandboxed iframes) is harmless.
 */
import { afterEach, expect, test } from 'vitest';
import { isContactId, isDeviceId, readDeviceId, storeIds } from '../../src/browser/identity.js';

const cookies = () => Object.fromEntries(document.cookie.split('; ').filter(Boolean).map((c) => c.split('=') as [string, string]));

afterEach(() => {
  localStorage.clear();
  for (const name of Object.keys(cookies())) document.cookie = `${name}=;path=/;max-age=0`;
});

test('a response with ids stores both in localStorage and cookies, and later hits read the device id', () => {
  storeIds({ success: 1, id: 42, sid: 'k3j9x0c1m2n4b5v6z7a8s9d', device_id: 'k3j9x0c1m2n4b5v6z7a8s9d', events: [] });
  expect(localStorage.getItem('mtc_id')).toBe('42');
  expect(localStorage.getItem('mautic_device_id')).toBe('k3j9x0c1m2n4b5v6z7a8s9d');
  expect(cookies()).toMatchObject({ mtc_id: '42', mautic_device_id: 'k3j9x0c1m2n4b5v6z7a8s9d' });
  expect(readDeviceId()).toBe('k3j9x0c1m2n4b5v6z7a8s9d');
});

test('null ids (bots, ignored IPs) and a refusal store nothing and keep what was stored', () => {
  storeIds({ id: 7, device_id: 'good1' });
  for (const response of [{ success: 1, id: null, sid: null, device_id: null }, { success: 0 }, null, undefined, 'text', 5]) {
    storeIds(response);
  }
  expect(localStorage.getItem('mtc_id')).toBe('7');
  expect(localStorage.getItem('mautic_device_id')).toBe('good1');
  expect(document.cookie).not.toContain('null');
});

test('ids are validated: a positive integer contact id, a device id of 1–64 [0-9a-z]', () => {
  for (const ok of [1, 42, '42', 123456789]) expect(isContactId(ok)).toBe(true);
  for (const bad of [0, -1, 4.5, '07', 'abc', null, undefined, '', NaN, 1e21]) expect(isContactId(bad)).toBe(false);
  for (const ok of ['k3j9x0c1m2n4b5v6z7a8s9d', 'a', 'x'.repeat(64)]) expect(isDeviceId(ok)).toBe(true);
  for (const bad of ['null', 'NULL', 'undefined'.toUpperCase(), '', 'x'.repeat(65), 'a-b', 'a;b', 'a b', null, undefined, 42]) {
    expect(isDeviceId(bad)).toBe(false);
  }
  storeIds({ id: '1;path=/x', device_id: 'abc;domain=evil.example' });
  expect(localStorage.length).toBe(0);
});

test('a "null" left in storage by Mautic\'s own script is not a device id', () => {
  localStorage.setItem('mautic_device_id', 'null');
  expect(readDeviceId()).toBeUndefined();
});

test('storage that throws on every access is swallowed: nothing stored, nothing thrown', () => {
  const descriptor = Object.getOwnPropertyDescriptor(window, 'localStorage')!;
  const cookieDescriptor = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
  Object.defineProperty(window, 'localStorage', {
    configurable: true,
    get() {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
  });
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get() {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
    set() {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    },
  });
  try {
    expect(() => storeIds({ id: 42, device_id: 'abc' })).not.toThrow();
    expect(readDeviceId()).toBeUndefined();
  } finally {
    Object.defineProperty(window, 'localStorage', descriptor);
    Object.defineProperty(Document.prototype, 'cookie', cookieDescriptor);
    delete (document as unknown as Record<string, unknown>).cookie;
  }
  expect(readDeviceId()).toBeUndefined();
});
