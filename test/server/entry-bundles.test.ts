/**
 * What a bundler or runtime loads for each server entry: `mautic-tracker/server` (dist/server.mjs
 * and dist/server.cjs) and every chunk they import must name no Node module, so that a
 * Cloudflare Worker or Deno build needs no Node compatibility; `mautic-tracker/server/node` may.
 * Reads the built files (run `npm run build` first) and follows their relative imports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Module specifiers of a built ES module or CommonJS file: static and dynamic imports, re-exports, requires. */
function specifiersOf(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|[;\n}])\s*(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** Every file reachable from `entry`, and the non-relative specifiers named on the way. */
function bundleOf(entry: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const queue = [join(dist, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else external.add(specifier);
    }
  }
  return { files: [...files].map((f) => relative(dist, f)), external: [...external] };
}

describe('built server entries', () => {
  it.each(['server.mjs', 'server.cjs'])('%s and its chunks import no Node module and no package', (entry) => {
    expect(existsSync(join(dist, entry)), 'run npm run build first').toBe(true);
    const { files, external } = bundleOf(entry);
    expect(files.length).toBeGreaterThan(1);
    expect(external).toEqual([]);
  });

  it.each(['server/node.mjs', 'server/node.cjs'])('the detector sees the Node entry %s import Node builtins, and only those', (entry) => {
    const { external } = bundleOf(entry);
    expect(external).toEqual(expect.arrayContaining(['node:http', 'node:https', 'node:zlib', 'node:fs/promises']));
    expect(external.filter((s) => !BUILTINS.has(s))).toEqual([]);
  });

  it.each(['mjs', 'cjs'])('loadSdkScript is in dist/server/node.%s itself, so the mtc.js it names one folder up is the package\'s', (ext) => {
    const chunks = bundleOf(`server/node.${ext}`).files.filter((file) => /async function loadSdkScript\b/.test(readFileSync(join(dist, file), 'utf8')));
    expect(chunks).toEqual([`server/node.${ext}`]);
    expect(readFileSync(join(dist, 'server', `node.${ext}`), 'utf8')).toContain("'../mtc.js'");
    expect(existsSync(join(dist, 'server', '..', 'mtc.js'))).toBe(true);
    // And the durable variant's (README "Durable queue"), the same way.
    expect(readFileSync(join(dist, 'server', `node.${ext}`), 'utf8')).toContain("'../mtc.durable.js'");
    expect(existsSync(join(dist, 'server', '..', 'mtc.durable.js'))).toBe(true);
  });
});
