/**
 * The store entries as built: `mautic-tracker/server` never loads the Redis client (it is an
 * optional peer, and the core runs where Node does not), and `mautic-tracker/server/cloudflare`
 * loads nothing but its own files (it runs in workerd). Reads the import graph of dist/.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every specifier imported (statically or dynamically) by `file` and the relative files it reaches. */
function importsFrom(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  // Comments out: their examples name packages the code does not load.
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const specifiers = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.flatMap((s) => (s.startsWith('.') ? [s, ...importsFrom(resolve(dirname(file), s), seen)] : [s]));
}

describe('the built store entries', () => {
  it('mautic-tracker/server reaches no Redis client; mautic-tracker/server/redis does', () => {
    for (const entry of ['dist/server.mjs', 'dist/server.cjs']) {
      const src = importsFrom(join('dist', entry.slice(5)));
      expect(src.filter((s) => s.includes('redis')), entry).toEqual([]);
    }
    expect(importsFrom('dist/server/redis.mjs')).toContain('@redis/client');
  });

  it('mautic-tracker/server/cloudflare imports only its own files (no node:, no package)', () => {
    const specifiers = importsFrom('dist/server/cloudflare.mjs');
    expect(specifiers.filter((s) => !s.startsWith('.'))).toEqual([]);
    // And its files define the Durable Object class Wrangler binds.
    expect(readFileSync('dist/server/cloudflare.mjs', 'utf8')).toMatch(/class MauticStoreObject/);
  });
});
