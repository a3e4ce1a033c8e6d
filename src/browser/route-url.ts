/**
 * Whether this build reads the npm entry's `paths` option (renamed routes, src/protocol/routes.ts).
 * dist/mtc.js is built with route-url.script-tag.ts in this module's place (rollup.config.mjs),
 * where it is false and the minifier drops every lookup: the proxy that serves the script writes
 * its renames into the script's text instead (src/server/core/script-routes.ts).
 */
export const READS_PATHS: boolean = true;
