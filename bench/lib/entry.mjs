/**
 * Our package as a user imports it: a subpath (`mautic-tracker/server`, …) resolved through the
 * `exports` map of the root package.json, `import` condition, the way Node resolves it for an
 * installed package. (bench/ has its own package.json, so `import 'mautic-tracker/server'` from
 * here would not self-resolve.) When a subpath moves, the bench follows the package's map.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.mjs';

const CONDITIONS = ['import', 'node', 'default'];

/**
 * @param {unknown} target an exports target (string or condition object)
 * @returns {string | null}
 */
function pick(target) {
  if (typeof target === 'string') return target;
  if (!target || typeof target !== 'object' || Array.isArray(target)) return null;
  for (const [condition, next] of Object.entries(target)) {
    if (CONDITIONS.includes(condition)) {
      const found = pick(next);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The file `import 'mautic-tracker' + subpath` loads, or null when the package does not export it
 * (or it is not built yet).
 * @param {string} subpath '.', './server', './server/node', …
 * @returns {string | null} absolute path
 */
export function resolveOurEntry(subpath) {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const target = pick(pkg.exports?.[subpath]);
  if (!target) return null;
  const file = path.join(ROOT, target);
  return existsSync(file) ? file : null;
}

/**
 * @param {string} subpath
 * @returns {Promise<Record<string, unknown>>} the module's namespace
 */
export async function importOurEntry(subpath) {
  const file = resolveOurEntry(subpath);
  if (!file) throw new Error(`mautic-tracker${subpath.slice(1)} is not exported or not built (npm run build)`);
  return import(pathToFileURL(file).href);
}

/**
 * Where our proxy is imported from: on Node, `mautic-tracker/server/node` (its `createMauticProxy`
 * relays over the keep-alive pool, and it has `toNodeListener`), as the README tells Node users;
 * `mautic-tracker/server` for both on a build from before that entry existed.
 * @returns {{ core: string, node: string } | null} subpaths, null when not built
 */
export function ourProxyEntries() {
  if (resolveOurEntry('./server/node')) return { core: './server/node', node: './server/node' };
  return resolveOurEntry('./server') ? { core: './server', node: './server' } : null;
}
