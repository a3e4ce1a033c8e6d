// Two kinds of output:
// - dist/mtc.js: the script-tag build loaded by Mautic's unchanged snippet. One minified IIFE,
//   no runtime dependencies, size-budgeted (see bench/size.mjs and test/browser/size.test.ts).
// - npm entry points (ESM + CJS) for bundlers and Node: the browser SDK, the server proxy and the
//   dev server. Left unminified so users can read and debug them; their bundlers minify.
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { builtinModules } from 'node:module';

const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const shebangForCli = (chunk) => (chunk.name === 'cli' ? '#!/usr/bin/env node' : '');
const ts = () => typescript({ tsconfig: './tsconfig.json', noEmitOnError: true, include: ['src/**/*.ts'] });

export default [
  {
    input: 'src/browser/script-tag.ts',
    output: {
      file: 'dist/mtc.js',
      format: 'iife',
      strict: false,
      plugins: [
        terser({
          ecma: 2020,
          toplevel: true,
          compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
          mangle: { properties: { regex: /^_/ } },
          format: { comments: false },
        }),
      ],
    },
    plugins: [ts()],
  },
  {
    input: {
      index: 'src/browser/index.ts',
      server: 'src/server/index.ts',
      'server-redis': 'src/server/redis/index.ts',
      'server-cloudflare': 'src/server/cloudflare/index.ts',
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
