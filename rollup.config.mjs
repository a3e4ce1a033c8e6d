// Two kinds of output:
// - dist/mtc.js: the script-tag build loaded by Mautic's unchanged snippet. One minified IIFE,
//   no runtime dependencies, size-budgeted (see bench/size.mjs and test/browser/size.test.ts).
// - npm entry points (ESM + CJS) for bundlers and Node: the browser SDK, the server proxy (Web
//   standard, no Node module), its Node additions (`server/node`) and the dev server. Left
//   unminified so users can read and debug them; their bundlers minify.
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

// A fresh dist/ per build: chunk names carry content hashes, so old ones would pile up and be packed.
rmSync('dist', { recursive: true, force: true });

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const shebangForCli = (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '');
/**
 * A rollup plugin that builds a script tag with `<name>.script-tag.ts` in place of src/browser's
 * `./<name>.js` wherever src/browser imports it.
 */
const scriptTagSwap = (name) => ({
  name: `script-tag-${name}`,
  resolveId(source, importer) {
    if (source === `./${name}.js` && importer && /[\\/]src[\\/]browser[\\/]/.test(importer)) {
      return fileURLToPath(new URL(`./src/browser/${name}.script-tag.ts`, import.meta.url));
    }
    return null;
  },
});
/**
 * Script tags build route URLs without the npm entry's `paths` lookup: the proxy serving them
 * writes its renames into the script (src/browser/route-url.script-tag.ts).
 */
const scriptTagRouteUrl = scriptTagSwap('route-url');
/** dist/mtc.js has no durable queue (durable-queue.script-tag.ts); dist/mtc.durable.js has it. */
const noDurableQueue = scriptTagSwap('durable-queue');
/**
 * dist/mtc.js has no consent mode and reads no DNT/GPC (consent.script-tag.ts): its size budget
 * has no room; dist/mtc.durable.js and the npm entry have it.
 */
const noConsent = scriptTagSwap('consent');
/** The script-tag builds' minifier: `_` properties are internal and mangled. */
const scriptTerser = () =>
  terser({
    ecma: 2021,
    toplevel: true,
    compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true, pure_getters: true },
    mangle: { properties: { regex: /^_/ } },
    format: { comments: false },
  });
const ts = (compilerOptions = {}) =>
  typescript({ tsconfig: './tsconfig.json', noEmitOnError: true, include: ['src/**/*.ts'], compilerOptions });

export default [
  {
    input: 'src/browser/script-tag.ts',
    output: {
      file: 'dist/mtc.js',
      format: 'iife',
      strict: false,
      plugins: [scriptTerser()],
    },
    // ES2021 keeps `??=` and `||=` as written (every current browser has them); the npm entry
    // stays ES2020 and is left to the site's bundler.
    plugins: [scriptTagRouteUrl, noDurableQueue, noConsent, ts({ target: 'ES2021' })],
  },
  {
    // dist/mtc.durable.js: dist/mtc.js with the durable send queue (README "Durable queue"), for
    // sites that pick it, as Plausible's script variants; not size-budgeted (bench/size.mjs prints it).
    input: 'src/browser/script-tag.ts',
    output: { file: 'dist/mtc.durable.js', format: 'iife', strict: false, plugins: [scriptTerser()] },
    plugins: [scriptTagRouteUrl, ts({ target: 'ES2021' })],
  },
  {
    input: {
      index: 'src/browser/index.ts',
      server: 'src/server/index.ts',
      'server/node': 'src/server/node/index.ts',
      'server/redis': 'src/server/redis/index.ts',
      'server/cloudflare': 'src/server/cloudflare/index.ts',
      devserver: 'src/devserver/index.ts',
      cli: 'src/devserver/cli.ts',
    },
    // The Redis client is an optional peer dependency, loaded only by mautic-tracker/server/redis.
    external: (id) => nodeBuiltins.has(id) || id === '@redis/client' || id.startsWith('@redis/client/'),
    output: [
      { dir: 'dist', format: 'es', banner: shebangForCli, entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
      { dir: 'dist', format: 'cjs', banner: shebangForCli, entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs' },
    ],
    plugins: [ts()],
  },
];
