/**
 * `mautic-tracker/server/node`: everything of `mautic-tracker/server`, plus what only Node has:
 * the `node:http` listener, the Express/Connect middleware, `loadSdkScript`, and proxies whose
 * relayed hits go over a `node:http(s)` keep-alive pool (proxy.ts).
 *
 * Only this entry may import load-script.ts: it then lands in dist/server/node.{mjs,cjs}, one
 * folder below the package's mtc.js (test/server/entry-bundles.test.ts checks that).
 */
export * from '../index.js';
export { createMauticProxy, createLazyMauticProxy } from './proxy.js';
export { toNodeListener, type NodeAdapterOptions } from './listener.js';
export { expressMiddleware, type ConnectMiddleware } from './express.js';
export { loadSdkScript, type SdkScriptChoice } from './load-script.js';
export { FileTokenStore } from './file-token-store.js';
