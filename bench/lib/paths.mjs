/** Where things live, resolved from this file so the bench runs from any working directory. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = path.join(ROOT, 'dist');
export const NODE_MODULES = path.join(ROOT, 'node_modules');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

/** @param {...string} parts */
export const fromRoot = (...parts) => path.join(ROOT, ...parts);
