/**
 * Files of this package, found from the running module wherever the package is installed: in a
 * consumer's node_modules (the module is `…/mautic-tracker/dist/*.mjs`) and in this repository
 * (tests import `src/…`). Never the consumer's own files: their working directory may hold an
 * unrelated `dist/mtc.js`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'mautic-tracker';

/** The folder of the nearest enclosing package.json named `mautic-tracker`, or null. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not a readable manifest: keep looking further up.
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The package's own `dist/mtc.js` (which may not be built yet in a fresh checkout). */
export function packagedScriptFile(): string {
  const root = packageRoot();
  return root ? join(root, 'dist', 'mtc.js') : join(dirname(fileURLToPath(import.meta.url)), 'mtc.js');
}
