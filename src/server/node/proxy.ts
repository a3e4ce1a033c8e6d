/**
 * The Node entry's proxies: the core's, with relayed hits over the `node:http(s)` keep-alive pool
 * instead of the global `fetch` (several times cheaper per hit; a `fetch` passed in the config is
 * always kept, and REST/identify calls always use the configured `fetch`).
 */
import type { MauticProxyConfig } from '../core/config.js';
import { lazyProxy, type LazyMauticProxy } from '../core/lazy-proxy.js';
import { createProxy, type MauticProxy } from '../core/proxy.js';
import { sharedKeepAliveTransport } from './keep-alive-transport.js';

/**
 * `createMauticProxy` of `mautic-tracker/server`, relaying hits over the keep-alive pool.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createMauticProxy, loadSdkScript, toNodeListener } from 'mautic-tracker/server/node';
 * const proxy = createMauticProxy({ mauticUrl: 'https://mautic.example.com', secret: process.env.MT_PROXY_SECRET!, script: await loadSdkScript() });
 * createServer(toNodeListener(proxy)).listen(8080);
 */
export function createMauticProxy(config: MauticProxyConfig): MauticProxy {
  return createProxy(config, { relayTransport: sharedKeepAliveTransport });
}

/** `createLazyMauticProxy` of `mautic-tracker/server`, making its proxy with the keep-alive pool. */
export function createLazyMauticProxy(configure: () => MauticProxyConfig | Promise<MauticProxyConfig>): LazyMauticProxy {
  return lazyProxy(configure, createMauticProxy);
}
