/**
 * Loads the SDK's `dist/mtc.js` (or its durable variant, `dist/mtc.durable.js`) for
 * `config.script` on Node (the core cannot read files).
 */
import { readFile } from 'node:fs/promises';

/** Which build of the script: the default `mtc.js`, or `mtc.durable.js` with the durable send queue. */
export interface SdkScriptChoice {
  variant: 'default' | 'durable';
}

/**
 * @param path Path of the script, or `{ variant: 'durable' }` for the package's
 * `dist/mtc.durable.js` (README "Durable queue"; still served at the proxy's script route, which
 * Mautic's snippet loads as `mtc.js`). Default: the installed package's `dist/mtc.js` (one folder
 * above this module's bundle, dist/server/node.{mjs,cjs}), then
 * `./node_modules/mautic-tracker/dist/mtc.js`, then `./dist/mtc.js`.
 *
 * @example createMauticProxy({ ..., script: await loadSdkScript() })
 * @example createMauticProxy({ ..., script: await loadSdkScript({ variant: 'durable' }) })
 */
export async function loadSdkScript(path?: string | SdkScriptChoice): Promise<Uint8Array> {
  const durable = typeof path === 'object' && path?.variant === 'durable';
  const file = durable ? 'mtc.durable.js' : 'mtc.js';
  // Literal URLs, which bundlers that copy `new URL('…', import.meta.url)` assets can follow.
  const packaged = durable ? new URL('../mtc.durable.js', import.meta.url) : new URL('../mtc.js', import.meta.url);
  const candidates: Array<string | URL> = typeof path === 'string'
    ? [path]
    : [packaged, `node_modules/mautic-tracker/dist/${file}`, `dist/${file}`];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      return new Uint8Array(await readFile(candidate));
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`loadSdkScript: ${file} not found (${lastError instanceof Error ? lastError.message : 'unknown'}); build it with \`npm run build\` or pass its path`);
}
