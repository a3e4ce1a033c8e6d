#!/usr/bin/env node
// Size of the script-tag build, dist/mtc.js: gzip (-9) and brotli (max quality) bytes.
// `--check` exits 1 when the gzip size is above the budget (issue 2, item 13). Also prints the
// durable variant, dist/mtc.durable.js, and its extra bytes over mtc.js (no budget: issue 15).
//
//   npm run build && npm run size            # print
//   node bench/size.mjs --check              # print, and fail above budget
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/**
 * Hard budget for dist/mtc.js, gzip -9 bytes: tracking plus what Mautic's script does for a site
 * (dynamic web content, campaign actions, `MauticJS`; issue 13). test/browser/size.test.ts
 * asserts the same.
 */
export const GZIP_BUDGET = 2816;

/** Raw, gzip -9 and brotli (quality 11) sizes of `code`, in bytes. */
export function measure(code) {
  return {
    raw: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    brotli: brotliCompressSync(code, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: code.length,
      },
    }).length,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = fileURLToPath(new URL('../dist/mtc.js', import.meta.url));
  let code;
  try {
    code = readFileSync(file);
  } catch {
    console.error(`size: ${file} is missing; run \`npm run build\` first`);
    process.exit(2);
  }
  const { raw, gzip, brotli } = measure(code);
  const left = GZIP_BUDGET - gzip;
  console.log(`dist/mtc.js  raw ${raw} B  gzip -9 ${gzip} B  brotli ${brotli} B  (budget ${GZIP_BUDGET} B gzip, ${left >= 0 ? `${left} B left` : `${-left} B over`})`);
  try {
    const durable = measure(readFileSync(fileURLToPath(new URL('../dist/mtc.durable.js', import.meta.url))));
    console.log(
      `dist/mtc.durable.js  raw ${durable.raw} B  gzip -9 ${durable.gzip} B  brotli ${durable.brotli} B  (+${durable.gzip - gzip} B gzip over mtc.js; no budget)`,
    );
  } catch {
    console.log('dist/mtc.durable.js is missing; run `npm run build`');
  }
  if (process.argv.includes('--check') && left < 0) process.exit(1);
}
