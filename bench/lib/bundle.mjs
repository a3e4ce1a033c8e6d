/**
 * Bundles a few lines of "app code" the way a user's bundler would ship them: rollup resolves the
 * package's ESM entry, tree-shakes, and terser minifies. Used for the npm-entry size rows (ours and
 * Plausible's, which has no prebuilt browser file) and for the Plausible page of the browser bench.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { rollup } from 'rollup';
import terser from '@rollup/plugin-terser';
import { PEERS_NODE_MODULES } from './paths.mjs';

const VIRTUAL_ENTRY = '\0bench-entry';

/**
 * The ESM file a bundler would pick for a bare package import (exports.import, then module, then main).
 * @param {string} pkgName
 * @returns {string} absolute path
 */
export function resolveEsmEntry(pkgName) {
  const dir = path.join(PEERS_NODE_MODULES, pkgName);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  /** @type {unknown} */
  const dot = pkg.exports && typeof pkg.exports === 'object' ? pkg.exports['.'] ?? pkg.exports : undefined;
  /** @type {string | undefined} */
  let rel;
  if (dot && typeof dot === 'object') {
    const d = /** @type {Record<string, unknown>} */ (dot);
    const pick = d.browser ?? d.import ?? d.module ?? d.default;
    if (typeof pick === 'string') rel = pick;
    else if (pick && typeof pick === 'object') {
      const p = /** @type {Record<string, unknown>} */ (pick);
      if (typeof p.default === 'string') rel = p.default;
    }
  }
  rel ??= pkg.module ?? pkg.main ?? 'index.js';
  const file = path.join(dir, /** @type {string} */ (rel));
  if (!existsSync(file)) throw new Error(`cannot resolve ESM entry of ${pkgName}: ${file} missing`);
  return file;
}

/**
 * @param {string} source entry module source; bare imports resolve through `aliases`, then bench/node_modules (the peers)
 * @param {{ format?: 'es' | 'iife', aliases?: Record<string, string> }} [options]
 * @returns {Promise<string>} minified code
 */
export async function bundleForBrowser(source, options = {}) {
  const aliases = options.aliases ?? {};
  const bundle = await rollup({
    input: VIRTUAL_ENTRY,
    treeshake: true,
    onwarn: () => {},
    plugins: [
      {
        name: 'bench-entry',
        resolveId(id, importer) {
          if (id === VIRTUAL_ENTRY) return id;
          if (id in aliases) return aliases[id];
          if (!id.startsWith('.') && !path.isAbsolute(id)) return resolveEsmEntry(id);
          if (importer && importer !== VIRTUAL_ENTRY) {
            const file = path.resolve(path.dirname(importer), id);
            return existsSync(file) ? file : existsSync(`${file}.js`) ? `${file}.js` : file;
          }
          return null;
        },
        load(id) {
          return id === VIRTUAL_ENTRY ? source : null;
        },
      },
    ],
  });
  try {
    const { output } = await bundle.generate({
      format: options.format ?? 'es',
      plugins: [terser({ ecma: 2020, format: { comments: false } })],
    });
    const chunk = output[0];
    return chunk.code;
  } finally {
    await bundle.close();
  }
}
