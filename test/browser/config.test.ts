// @vitest-environment jsdom
// @vitest-environment-options {"url": "https://www.example.com/shop/page?x=1"}
/**
 * The configured base URL (issue 12, finding 6): `http:`/`https:` only, anything else ignored
 * with a debug warning; one trailing slash tolerated. Through `applyConfig` itself, the script
 * tag's `mt('config', …)` against a recording server, and the npm entry.
 */
import { afterAll, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { applyConfig } from '../../src/browser/config.js';
import { createTracker } from '../../src/browser/index.js';
import type { TrackerConfig } from '../../src/browser/types.js';
import { startRecorder, type Recorder } from './support/recorder.js';

const fresh = (debug?: boolean): TrackerConfig => ({ _url: 'https://m.example.com', _timeout: 5000, _debug: debug });

test('http(s) URLs and paths on the site are taken, one trailing slash dropped', () => {
  const cases: Array<[string, string]> = [
    ['https://m.example.com', 'https://m.example.com'],
    ['https://m.example.com/', 'https://m.example.com'],
    ['http://127.0.0.1:8080/mt/', 'http://127.0.0.1:8080/mt'],
    ['HTTPS://M.example.com/mt', 'HTTPS://M.example.com/mt'],
    ['/mt', '/mt'],
    ['/mt/', '/mt'],
    ['//m.example.com/mt', '//m.example.com/mt'],
  ];
  for (const [url, taken] of cases) expect(applyConfig(fresh(), { url })._url, url).toBe(taken);
});

test('javascript:, data:, ftp: and other URLs, relative names and non-strings are ignored, with a warning only in debug', () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const refused: unknown[] = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://m.example.com',
    'blob:https://www.example.com/1',
    'mailto:a@b.c',
    'mt',
    '',
    42,
    { toString: () => 'https://evil.example' },
    ['https://m.example.com'],
  ];
  for (const url of refused) expect(applyConfig(fresh(), { url })._url, String(url)).toBe('https://m.example.com');
  expect(warn).not.toHaveBeenCalled();
  for (const url of refused) applyConfig(fresh(true), { url });
  expect(warn).toHaveBeenCalledTimes(refused.length);
  expect(warn).toHaveBeenCalledWith('mt: ignored', 'javascript:alert(1)');
  // No url given: nothing to warn about.
  applyConfig(fresh(true), { timeout: 100 });
  expect(warn).toHaveBeenCalledTimes(refused.length);
  warn.mockRestore();
});

test('the npm entry refuses a javascript: url (no url) and tolerates a trailing slash', async () => {
  const refused = await createTracker({ url: 'javascript:alert(1)' }).pageview();
  expect(refused.ok).toBe(false);
  expect(!refused.ok && refused.error.message).toBe('mautic-tracker: no url');
});

let server: Recorder;
beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

test('through the npm entry, a base with a trailing slash posts to /mtc/event, not //mtc/event', async () => {
  const tracker = createTracker({ url: `${server.url}/base/` });
  await tracker.pageview({ n: 1 });
  const [hit] = await server.waitFor(1);
  expect(hit!.path).toBe('/base/mtc/event');
});
