/**
 * A proxy made on its first request rather than when the module loads. Frameworks evaluate route
 * modules at build time (`next build` "Collecting page data"), when the secrets of the deployment
 * are not there; a proxy made at the top of the module would then fail the build.
 */
import { MauticProxyConfigError, type MauticProxyConfig } from './config.js';
import { errorMessage } from './http.js';
import { createMauticProxy, type MauticProxy, type ProxyContext } from './proxy.js';
import { toWebResponse } from './web-adapter.js';

export interface LazyMauticProxy {
  /** Like `MauticProxy.handle`; a configuration that is still invalid answers 500 `proxy_misconfigured`. */
  handle(request: Request, ctx: ProxyContext): Promise<Response>;
  /** The proxy itself (made now if it is not yet); rejects with `MauticProxyConfigError` when the configuration is invalid. */
  proxy(): Promise<MauticProxy>;
}

/**
 * @example
 * // app/mt/[...path]/route.js (Next.js): builds with no secret set; reads them on the first request.
 * const mautic = createLazyMauticProxy(async () => ({
 *   mauticUrl: process.env.MAUTIC_URL,
 *   secret: process.env.MT_PROXY_SECRET,
 *   script: await loadSdkScript(),
 * }));
 * const handle = (request) => mautic.handle(request, { clientIp: request.headers.get('x-real-ip') ?? '' });
 * export { handle as GET, handle as HEAD, handle as POST };
 */
export function createLazyMauticProxy(configure: () => MauticProxyConfig | Promise<MauticProxyConfig>): LazyMauticProxy {
  return lazyProxy(configure, createMauticProxy);
}

/** `createLazyMauticProxy` over a runtime entry's own `createMauticProxy`. */
export function lazyProxy(
  configure: () => MauticProxyConfig | Promise<MauticProxyConfig>,
  create: (config: MauticProxyConfig) => MauticProxy,
): LazyMauticProxy {
  let made: Promise<MauticProxy> | null = null;
  const proxy = (): Promise<MauticProxy> => {
    // A failed attempt is forgotten: the configuration may be fixed without a restart (secrets mounted late).
    made ??= Promise.resolve()
      .then(configure)
      .then(create)
      .catch((error: unknown) => {
        made = null;
        throw error;
      });
    return made;
  };
  return {
    proxy,
    async handle(request, ctx) {
      let ready: MauticProxy;
      try {
        ready = await proxy();
      } catch (error) {
        // Which options are wrong (never their values), once per failing request, for the operator.
        const problems = error instanceof MauticProxyConfigError ? error.problems.join('; ') : 'the configuration function failed';
        console.error(`mautic-tracker: the proxy is not configured: ${problems}`);
        return toWebResponse(errorMessage(500, 'proxy_misconfigured'));
      }
      return ready.handle(request, ctx);
    },
  };
}
