/** Where things live, resolved from this file so the bench runs from any working directory. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.join(ROOT, 'dist');
export const BENCH_DIR = path.join(ROOT, 'bench');
/**
 * The peers measured against (bench/package.json): installed there by `npm run bench`, never by
 * the package's own `npm ci`.
 */
export const PEERS_NODE_MODULES = path.join(BENCH_DIR, 'node_modules');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** @param {...string} parts */
export const fromRoot = (...parts) => path.join(ROOT, ...parts);
