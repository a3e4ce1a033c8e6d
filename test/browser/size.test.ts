/**
 * The script-tag build stays within its budget: dist/mtc.js ≤ 2,816 bytes gzip -9 with dynamic
 * web content, campaign actions and `MauticJS` (issue 13; it was 2,048 for tracking alone, issue 2
 * item 13). Builds nothing: `npm test` builds first (run `npm run build` before this file alone).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
// @ts-expect-error -- plain ESM script without declarations; the same budget `npm run size` checks.
import { GZIP_BUDGET, measure } from '../../bench/size.mjs';

const file = fileURLToPath(new URL('../../dist/mtc.js', import.meta.url));

test('dist/mtc.js is at most 2,816 bytes gzip -9', () => {
  const code = readFileSync(file);
  expect(GZIP_BUDGET).toBe(2816);
  const { gzip, brotli, raw } = measure(code) as { gzip: number; brotli: number; raw: number };
  // Sanity: a real build, not an empty placeholder.
  expect(raw).toBeGreaterThan(1000);
  expect(brotli).toBeLessThan(gzip);
  expect(gzip).toBeLessThanOrEqual(2816);
});

