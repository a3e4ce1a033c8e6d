/**
 * route-url.ts for dist/mtc.js (rollup.config.mjs swaps it in): the script sends to its default
 * routes, which the proxy serving it rewrites in the script's text when it renames them
 * (src/server/core/script-routes.ts), so it has no `paths` lookup to pay for.
 */
export const READS_PATHS: boolean = false;
