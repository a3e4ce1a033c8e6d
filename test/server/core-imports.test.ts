/**
 * The core must run on Workers, Deno, Bun and edge runtimes: it may import only its own relative
 * modules and src/protocol, never `node:*`, a Node builtin or a package. This walks the real
 * import graph from the core's entry points.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const serverDir = join(root, 'src/server');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function importsOf(file: string): ImportRef[] {
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const refs: ImportRef[] = [];
  for (const m of src.matchAll(/(?:^|;|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g)) {
    refs.push({ specifier: m[3]!, typeOnly: Boolean(m[2]), dynamic: false });
  }
  for (const m of src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ specifier: m[1]!, typeOnly: false, dynamic: true });
  return refs;
}

/** Every file reachable from `entries`, with the non-relative imports found on the way. */
function walk(entries: string[], follow: (ref: ImportRef) => boolean): { files: Set<string>; external: Array<{ file: string; ref: ImportRef }> } {
  const files = new Set<string>();
  const external: Array<{ file: string; ref: ImportRef }> = [];
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const ref of importsOf(file)) {
      if (!ref.specifier.startsWith('.')) {
        external.push({ file: relative(root, file), ref });
        continue;
      }
      if (!follow(ref)) continue;
      queue.push(resolve(dirname(file), ref.specifier.replace(/\.js$/, '.ts')));
    }
  }
  return { files, external };
}

const coreEntries = [
  ...readdirSync(join(serverDir, 'core')).map((f) => join(serverDir, 'core', f)),
  ...readdirSync(join(serverDir, 'rest')).map((f) => join(serverDir, 'rest', f)),
];

describe('core import graph', () => {
  it('imports no node:* module, no Node builtin and no package', () => {
    const { files, external } = walk(coreEntries, () => true);
    expect(files.size).toBeGreaterThanOrEqual(coreEntries.length);
    for (const file of files) expect(relative(root, file)).toMatch(/^src\/(server\/(core|rest)|protocol)\//);
    expect(external).toEqual([]);
  });

  it('the detector does see Node imports (it would fail on an adapter)', () => {
    const { external } = walk([join(serverDir, 'adapters/node.ts')], () => true);
    expect(external.some(({ ref }) => ref.specifier === 'node:http')).toBe(true);
    expect(external.every(({ ref }) => BUILTINS.has(ref.specifier))).toBe(true);
  });

  it('the package entry has no runtime static Node import (only types, and lazy imports in loadSdkScript and FileTokenStore)', () => {
    const { external } = walk([join(serverDir, 'index.ts')], (ref) => !ref.typeOnly);
    const runtimeStatic = external.filter(({ ref }) => !ref.typeOnly && !ref.dynamic);
    expect(runtimeStatic).toEqual([]);
    const dynamic = external.filter(({ ref }) => ref.dynamic);
    expect(dynamic).toEqual(
      expect.arrayContaining([
        { file: 'src/server/node/load-script.ts', ref: { specifier: 'node:fs/promises', typeOnly: false, dynamic: true } },
        { file: 'src/server/node/file-token-store.ts', ref: { specifier: 'node:fs/promises', typeOnly: false, dynamic: true } },
      ]),
    );
    expect(dynamic).toHaveLength(2);
  });
});
