/**
 * Size benchmark: gzip -9 and brotli (quality 11) bytes of what a visitor downloads, for our
 * script-tag build, our npm entry as a bundler ships it, and the peers' browser files from npm.
 * Each row names the exact file it measured, so the numbers can be checked by hand. The peers come
 * from bench/node_modules (`npm run bench` installs them); without them their rows are 'pending'.
 *
 * Run alone: `node bench/size-bench.mjs` (prints JSON).
 */
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zlib } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleForBrowser, resolveEsmEntry } from './lib/bundle.mjs';
import { ROOT, DIST, PEERS_NODE_MODULES } from './lib/paths.mjs';
import { peersInstalled } from './lib/peers.mjs';

/**
 * @typedef {object} SizeRow
 * @property {string} id          stable key, e.g. 'ours-script'
 * @property {string} tracker     'ours' | 'posthog' | 'segment' | 'plausible'
 * @property {string} label       human name of the row
 * @property {string} source      exactly what was measured (file path relative to the repo, or how it was bundled)
 * @property {'pending' | 'ok'} status  'pending' when our build (or, for a peer, bench/node_modules) is not there yet
 * @property {number} raw         bytes, uncompressed
 * @property {number} gzip        bytes, gzip level 9
 * @property {number} brotli      bytes, brotli quality 11
 * @property {string} [note]
 */

/** @param {Buffer | string} data */
export function compressedSizes(data) {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: 11,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_SIZE_HINT]: buf.length,
      },
    }).length,
  };
}

/** Our builds are placeholders until the SDK helper's code lands; those rows are then 'pending'. */
export function ourBuildIsReal() {
  const script = path.join(DIST, 'mtc.js');
  const entry = path.join(DIST, 'index.mjs');
  if (!existsSync(script) || !existsSync(entry)) return { script: false, entry: false };
  return {
    script: readFileSync(script).length > 200,
    entry: /\bcreateTracker\b/.test(readFileSync(entry, 'utf8')),
  };
}

/** The app code a user writes with our npm entry; the bundle is what their site ships. */
export const OUR_NPM_USAGE = `import { createTracker } from 'mautic-tracker';
const tracker = createTracker({ url: 'https://mautic.example.com' });
tracker.pageview();
tracker.event('cta', 'click');`;

/** The same usage with Plausible's npm package (it has no prebuilt browser file on npm). */
export const PLAUSIBLE_NPM_USAGE = `import Plausible from 'plausible-tracker';
const plausible = Plausible({ domain: 'example.com' });
plausible.trackPageview();
plausible.trackEvent('cta');`;

/**
 * @param {string} relFile path relative to the repo root
 * @returns {Buffer}
 */
function readRel(relFile) {
  return readFileSync(path.join(ROOT, relFile));
}

/** @param {string} abs */
const rel = (abs) => path.relative(ROOT, abs);

/** @param {string} pkg */
function version(pkg) {
  return JSON.parse(readFileSync(path.join(PEERS_NODE_MODULES, pkg, 'package.json'), 'utf8')).version;
}

/**
 * Measures every row. Peer files are the ones their usual snippet loads.
 * @returns {Promise<{ rows: SizeRow[], versions: Record<string, string> }>}
 */
export async function runSizeBench() {
  /** @type {SizeRow[]} */
  const rows = [];
  const real = ourBuildIsReal();

  const scriptFile = 'dist/mtc.js';
  rows.push({
    id: 'ours-script',
    tracker: 'ours',
    label: 'mautic-tracker (script tag)',
    source: scriptFile,
    status: real.script ? 'ok' : 'pending',
    ...compressedSizes(existsSync(path.join(ROOT, scriptFile)) ? readRel(scriptFile) : ''),
  });

  /** @type {Pick<SizeRow, 'raw' | 'gzip' | 'brotli'>} */
  let npmSizes = { raw: NaN, gzip: NaN, brotli: NaN };
  if (real.entry) {
    const code = await bundleForBrowser(OUR_NPM_USAGE, { aliases: { 'mautic-tracker': path.join(DIST, 'index.mjs') } });
    npmSizes = compressedSizes(code);
  }
  rows.push({
    id: 'ours-npm',
    tracker: 'ours',
    label: 'mautic-tracker (npm, bundled)',
    source: 'dist/index.mjs createTracker+pageview+event, rollup+terser',
    status: real.entry ? 'ok' : 'pending',
    ...npmSizes,
  });

  if (!peersInstalled()) {
    // Measured by `npm run bench`, which installs them first; the harness still runs without them.
    for (const [id, tracker, label] of /** @type {const} */ ([
      ['posthog-array', 'posthog', 'posthog-js (snippet)'],
      ['posthog-full', 'posthog', 'posthog-js (full)'],
      ['segment-standalone', 'segment', '@segment/analytics-next'],
      ['plausible-npm', 'plausible', 'plausible-tracker (npm, bundled)'],
    ])) {
      rows.push({ id, tracker, label, source: 'not installed (npm ci --prefix bench)', status: 'pending', raw: NaN, gzip: NaN, brotli: NaN });
    }
    return { rows, versions: {} };
  }
  const peerFile = (/** @type {string} */ file) => rel(path.join(PEERS_NODE_MODULES, file));
  rows.push({
    id: 'posthog-array',
    tracker: 'posthog',
    label: `posthog-js ${version('posthog-js')} (snippet)`,
    source: peerFile('posthog-js/dist/array.js'),
    status: 'ok',
    note: 'what PostHog\'s snippet loads; more extensions load lazily',
    ...compressedSizes(readRel(peerFile('posthog-js/dist/array.js'))),
  });
  rows.push({
    id: 'posthog-full',
    tracker: 'posthog',
    label: `posthog-js ${version('posthog-js')} (full)`,
    source: peerFile('posthog-js/dist/array.full.js'),
    status: 'ok',
    note: 'all extensions bundled',
    ...compressedSizes(readRel(peerFile('posthog-js/dist/array.full.js'))),
  });
  rows.push({
    id: 'segment-standalone',
    tracker: 'segment',
    label: `@segment/analytics-next ${version('@segment/analytics-next')}`,
    source: peerFile('@segment/analytics-next/dist/umd/standalone.js'),
    status: 'ok',
    note: 'what Segment\'s snippet loads (analytics.min.js); plugin chunks load lazily',
    ...compressedSizes(readRel(peerFile('@segment/analytics-next/dist/umd/standalone.js'))),
  });
  const plausibleEntry = resolveEsmEntry('plausible-tracker');
  rows.push({
    id: 'plausible-npm',
    tracker: 'plausible',
    label: `plausible-tracker ${version('plausible-tracker')} (npm, bundled)`,
    source: `${rel(plausibleEntry)} Plausible+trackPageview+trackEvent, rollup+terser`,
    status: 'ok',
    note: 'npm has no prebuilt browser file; bundled like ours',
    ...compressedSizes(await bundleForBrowser(PLAUSIBLE_NPM_USAGE)),
  });

  return {
    rows,
    versions: {
      'posthog-js': version('posthog-js'),
      '@segment/analytics-next': version('@segment/analytics-next'),
      'plausible-tracker': version('plausible-tracker'),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSizeBench().then((r) => console.log(JSON.stringify(r, null, 2)));
}
