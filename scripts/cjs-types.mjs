// Declarations for CommonJS consumers: tsc emits one tree of `.d.ts` files, which a
// `"type": "module"` package makes ESM. `require` resolution needs its own tree, `.d.cts` files
// whose relative imports name `.cjs` files, or TypeScript treats the CommonJS build as ESM
// ("masquerading as ESM", TS1479). This copies dist/types to dist/types-cjs so.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

const from = 'dist/types';
const to = 'dist/types-cjs';

async function* declarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith('.d.ts')) yield path;
  }
}

await rm(to, { recursive: true, force: true });
let count = 0;
for await (const file of declarations(from)) {
  const text = await readFile(file, 'utf8');
  // Only relative specifiers: package imports (node:http, …) resolve the same either way.
  const rewritten = text.replace(/(from\s+|import\(\s*)(['"])(\.{1,2}\/[^'"]+)\.js\2/g, '$1$2$3.cjs$2');
  const target = join(to, relative(from, file)).replace(/\.d\.ts$/, '.d.cts');
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, rewritten);
  count += 1;
}
console.log(`cjs-types: ${count} declaration files in ${to}`);
