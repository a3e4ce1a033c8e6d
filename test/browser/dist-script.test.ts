// @vitest-environment jsdom
/**
 * The built, minified dist/mtc.js (not the sources): run as the page would run it, it drains the
 * snippet's queue, talks to the directory of its own src, adds no global besides the snippet's,
 * and a second copy sends nothing twice. Catches what minification (property mangling) could break.
 * Builds nothing: `npm test` builds first.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { formPairs, startRecorder, type Recorder } from './support/recorder.js';

let server: Recorder;
beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());

const code = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/mtc.js'), 'utf8');
// Indirect eval: global scope, like a classic script (document.currentScript is null: the
// script falls back to the mtc.js tag in the document).
const runScript = () => (0, eval)(code);

test('dist/mtc.js drains the queue, posts to its own directory, leaks no global, and runs once', async () => {
  const host = globalThis as unknown as Record<string, unknown>;
  const before = new Set(Object.keys(globalThis));
  host.MauticTrackingObject = 'mt';
  const stub = function () {
    // eslint-disable-next-line prefer-rest-params
    (stub.q = stub.q || []).push(arguments);
  } as ((...args: unknown[]) => void) & { q?: IArguments[] };
  host.mt = stub;
  const tag = document.createElement('script');
  tag.setAttribute('src', `${server.url}/base/mtc.js`);
  document.head.appendChild(tag);
  document.title = 'Dist page';

  const settled: string[] = [];
  stub('send', 'pageview', { email: 'jane@example.com', tags: ['a', '-b'], dropped: null }, { onload: () => settled.push('onload'), onerror: () => settled.push('onerror') });
  stub('send', 'pageview', { email: 'jane@example.com', tags: ['a', '-b'], dropped: null });
  runScript();
  const installed = host.mt;
  runScript();
  expect(host.mt).toBe(installed);
  (host.mt as (...args: unknown[]) => void)('send', 'event', 'Video', 'play');

  const hits = await server.waitFor(2);
  await new Promise((r) => setTimeout(r, 300));
  expect(server.requests.map((r) => r.method + ' ' + r.path)).toEqual(['POST /base/mtc/event', 'POST /base/mtc/event']);
  const first = Object.fromEntries(formPairs(hits[0]!.body));
  expect(first).toMatchObject({ page_title: 'Dist page', counter: '0', email: 'jane@example.com', tags: 'a,-b' });
  expect(first).not.toHaveProperty('dropped');
  const second = Object.fromEntries(formPairs(hits[1]!.body));
  expect(second).toMatchObject({ counter: '1', mautic_device_id: 'k3j9x0c1m2n4b5v6z7a8s9d' });
  expect(new URL(second.page_url!).searchParams.get('mt_action')).toBe('play');
  expect(settled).toEqual(['onload']);
  expect(localStorage.getItem('mtc_id')).toBe('42');

  const added = Object.keys(globalThis).filter((key) => !before.has(key));
  expect(added.sort()).toEqual(['MauticJS', 'MauticTrackingObject', 'mt']);
});

test('a malformed entry pushed onto the queue is ignored and the entries after it still run', async () => {
  const host = globalThis as unknown as Record<string, unknown>;
  const already = server.requests.length;
  // A fresh global name: the first test's copy owns `mt`.
  host.MauticTrackingObject = 'mtBad';
  const q: unknown[] = [42, null, 'send', { length: 1e9 }];
  const stub = Object.assign(function () {}, { q });
  host.mtBad = stub;
  q.push(['send', 'pageview', { after: 'bad entries' }]);
  runScript();
  expect(host.mtBad).not.toBe(stub);

  await server.waitFor(already + 1);
  const last = Object.fromEntries(formPairs(server.requests.at(-1)!.body));
  expect(last).toMatchObject({ after: 'bad entries' });
});
