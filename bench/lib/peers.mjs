/**
 * The benchmark's peers (posthog-js, Segment, plausible-tracker, the Node proxies, autocannon) are
 * bench/package.json's dependencies, pinned by bench/package-lock.json. `npm run bench` installs
 * them into bench/node_modules when they are missing or differ from the lockfile; the package's
 * own `npm ci` never does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, PEERS_NODE_MODULES } from './paths.mjs';

/** @param {string} file */
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * The direct dependencies of bench/package.json whose installed version is not the locked one
 * (every one of them when bench/node_modules is missing).
 * @returns {string[]}
 */
export function stalePeers() {
  const manifest = readJson(path.join(BENCH_DIR, 'package.json'));
  const lock = readJson(path.join(BENCH_DIR, 'package-lock.json'));
  return Object.keys(manifest.dependencies ?? {}).filter((name) => {
    const file = path.join(PEERS_NODE_MODULES, name, 'package.json');
    const locked = lock.packages?.[`node_modules/${name}`]?.version;
    return !existsSync(file) || readJson(file).version !== locked;
  });
}

/** True when every peer is installed at its locked version. */
export function peersInstalled() {
  return stalePeers().length === 0;
}

/**
 * Installs the peers (`npm ci --prefix bench`) unless they are already there. Install scripts are
 * skipped: no peer needs one to be measured (core-js's only prints a message).
 * @param {(line: string) => void} log
 */
export function ensurePeers(log) {
  const stale = stalePeers();
  if (stale.length === 0) return;
  log(`bench: installing the peers into bench/node_modules (npm ci --prefix bench; missing or not the locked version: ${stale.join(', ')})`);
  execFileSync('npm', ['ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
}
