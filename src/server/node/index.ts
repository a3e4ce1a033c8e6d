/**
 * `mautic-tracker/server/node`: everything of `mautic-tracker/server`, plus what only Node has:
 * the `node:http` listener, the Express/Connect middleware and `loadSdkScript`.
 */
export * from '../index.js';
export { toNodeListener, type NodeAdapterOptions } from './listener.js';
export { expressMiddleware, type ConnectMiddleware } from './express.js';
export { loadSdkScript } from './load-script.js';
