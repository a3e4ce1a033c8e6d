/**
 * Loads the SDK's `dist/mtc.js` for `config.script` on Node (the core cannot read files).
 */
import { readFile } from 'node:fs/promises';

/**
 * @param path Path of `mtc.js`. Default: the installed package's `dist/mtc.js` (one folder above
 * this module's bundle, dist/server/node.{mjs,cjs}), then `./node_modules/mautic-tracker/dist/mtc.js`, then `./dist/mtc.js`.
 *
 * @example createMauticProxy({ ..., script: await loadSdkScript() })
 */
export async function loadSdkScript(path?: string): Promise<Uint8Array> {
  const candidates: Array<string | URL> = path
    ? [path]
    : [new URL('../mtc.js', import.meta.url), 'node_modules/mautic-tracker/dist/mtc.js', 'dist/mtc.js'];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      return new Uint8Array(await readFile(candidate));
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`loadSdkScript: mtc.js not found (${lastError instanceof Error ? lastError.message : 'unknown'}); build it with \`npm run build\` or pass its path`);
}
