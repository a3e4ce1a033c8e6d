/**
 * Server-side rendering: importing the npm entry in Node (no window, no document) touches nothing,
 * and a tracker created there resolves every send with { ok: false, error } instead of throwing.
 */
import { expect, test } from 'vitest';

test('importing the npm entry without a window neither throws nor touches window', async () => {
  expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
  const { createTracker } = await import('../../src/browser/index.js');
  expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');

  const tracker = createTracker({ url: 'https://mautic.example.com' });
  for (const result of await Promise.all([
    tracker.pageview({ email: 'a@example.com' }),
    tracker.event('Video', 'play'),
    tracker.identify({ email: 'a@example.com' }),
  ])) {
    expect(result.ok).toBe(false);
    expect((result as { error: Error }).error).toBeInstanceOf(Error);
  }
  const stop = tracker.enableAutoPageviews();
  expect(() => stop()).not.toThrow();
});

test('the built npm entries import cleanly in Node too (ESM and CJS)', async () => {
  const { createRequire } = await import('node:module');
  const { existsSync } = await import('node:fs');
  const esm = new URL('../../dist/index.mjs', import.meta.url);
  const cjs = new URL('../../dist/index.cjs', import.meta.url);
  if (!existsSync(esm) || !existsSync(cjs)) return expect.fail('dist/index.mjs or dist/index.cjs missing: run `npm run build`');
  const fromEsm = (await import(esm.href)) as typeof import('../../src/browser/index.js');
  const fromCjs = createRequire(import.meta.url)(cjs.pathname) as typeof import('../../src/browser/index.js');
  for (const { createTracker } of [fromEsm, fromCjs]) {
    const result = await createTracker({ url: 'https://m.example.com' }).pageview();
    expect(result.ok).toBe(false);
  }
});
