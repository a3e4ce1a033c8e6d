/**
 * `createMauticProxy`: the Web-standard core. One `handle(Request, {clientIp})` for every
 * runtime (Workers, Deno, Bun, Next.js route handlers); the Node adapters call the same dispatch
 * with plain messages (`plainHandlerOf`, see message.ts) to skip Web objects on hot hits. Imports
 * nothing from Node: only fetch, WebCrypto, URL, TextEncoder/Decoder.
 */
import { BasicAuth, OAuth2ClientCredentials, type AuthProvider } from '../rest/auth.js';
import { MauticRestClient } from '../rest/client.js';
import { BindingSigner } from './binding.js';
import { resolveConfig, type MauticProxyConfig, type ResolvedConfig } from './config.js';
import { errorMessage, methodNotAllowedMessage } from './http.js';
import { Identifier, type ServerIdentifyOptions, type ServerIdentifyResult } from './identify.js';
import { createLog } from './logger.js';
import { asWebResponse, toWebResponse, type CoreAnswer, type PlainRequest } from './message.js';
import { Relay } from './relay.js';
import { ROUTE_METHODS, RouteTable } from './routes.js';
import { ScriptAsset } from './script.js';
import { MemoryStore } from './store.js';
import type { UpstreamTransport } from './upstream.js';
import { WebPlainRequest } from './web-message.js';

/** What the runtime knows about the connection that a `Request` does not carry. */
export interface ProxyContext {
  /** The visitor's IP (socket address, or resolved from trusted proxy hops by the adapter). */
  clientIp: string;
}

export interface MauticProxy {
  /**
   * Handles one request. Never throws: every failure is a Response (4xx for bad input, 502/504
   * for upstream trouble, 500 for bugs). Requests outside `basePath` get 404.
   */
  handle(request: Request, ctx: ProxyContext): Promise<Response>;
  /** Server-side identification. Throws `MauticApiError` on API failure, `Error` if not configured. */
  identify(options: ServerIdentifyOptions): Promise<ServerIdentifyResult>;
  /** True when `pathname` is under `basePath` (adapters pass other requests on). */
  owns(pathname: string): boolean;
  readonly basePath: string;
  /** Body limit, for adapters. */
  readonly maxBodyBytes: number;
  /** The config's `timeoutMs`, for adapters: also the longest a request body may take to arrive. */
  readonly timeoutMs: number;
  /** The REST client (null without `auth`), for calls beyond identification. */
  readonly rest: MauticRestClient | null;
}

/**
 * @example
 * const proxy = createMauticProxy({
 *   mauticUrl: 'https://mautic.example.com',
 *   basePath: '/mt',
 *   secret: process.env.MT_PROXY_SECRET!,          // ≥ 32 random characters
 *   script: await loadSdkScript(),                  // Node; elsewhere pass the file's content
 *   auth: { type: 'oauth2', clientId: '…', clientSecret: process.env.MAUTIC_CLIENT_SECRET! },
 *   identify: { allowedFields: ['firstname', 'lastname'], allowedOrigins: ['https://www.example.com'] },
 * });
 * // Next.js: export const POST = (req: Request) => proxy.handle(req, { clientIp: ip(req) });
 */
export function createMauticProxy(input: MauticProxyConfig): MauticProxy {
  const config: ResolvedConfig = resolveConfig(input);
  const authProvider = config.auth ? makeAuth(config) : null;
  const log = createLog(config.logger, () => [...config.secrets, ...(authProvider?.secrets ?? [])]);
  const binding = new BindingSigner(config.secret, config.bindingMaxAgeSeconds);
  const routes = new RouteTable(config.basePath, config.paths, config.maxUrlLength);
  const relay = new Relay({ config, binding, log });
  const script = config.script ? new ScriptAsset(config.script, config.scriptMaxAgeSeconds) : null;
  const rest = authProvider
    ? new MauticRestClient({ baseUrl: config.mauticUrl, auth: authProvider, fetch: config.fetch, timeoutMs: config.timeoutMs })
    : null;
  const identifier = rest && config.identify ? new Identifier({ config, binding, client: rest, log }) : null;

  async function dispatch(request: PlainRequest, ctx: ProxyContext): Promise<CoreAnswer> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorMessage(400, 'bad_request');
    }
    const match = routes.match(url);
    if (match.kind === 'rejected') return errorMessage(match.status, match.status === 414 ? 'url_too_long' : 'bad_request');
    if (match.kind !== 'route') return errorMessage(404, 'not_found');
    const { route } = match;
    if (!ROUTE_METHODS[route].includes(request.method)) return methodNotAllowedMessage(ROUTE_METHODS[route]);
    const clientIp = typeof ctx?.clientIp === 'string' ? ctx.clientIp : '';
    switch (route) {
      // The cold routes keep working on Web objects: simpler, and rare next to hits.
      case 'script':
        return script ? script.respond(request.toRequest()) : errorMessage(404, 'not_found');
      case 'identify':
        return identifier ? identifier.handleRequest(request.toRequest(), url, clientIp) : errorMessage(404, 'not_found');
      default:
        return relay.handle(route, request, url, clientIp);
    }
  }

  let warnedEvictions = 0;
  /** A full memory store forgets live entries (a spent token, a hit id): say so, once per thousand. */
  function checkMemoryStore(): void {
    let evicted = 0;
    for (const store of new Set([config.store, config.hitStore])) if (store instanceof MemoryStore) evicted += store.evicted;
    if (evicted <= warnedEvictions) return;
    if (warnedEvictions === 0 || evicted - warnedEvictions >= 1000) {
      warnedEvictions = evicted;
      log('warn', 'memory store is full: live entries were forgotten; pass a store with a larger maxEntries, or a shared store', { evicted });
    }
  }

  /** `dispatch` with the failure policy: never throws, logs refusals without request data. */
  async function answer(request: PlainRequest, ctx: ProxyContext): Promise<CoreAnswer> {
    try {
      const response = await dispatch(request, ctx);
      checkMemoryStore();
      if (response.status >= 400) {
        // Method and status only: paths and bodies are attacker-controlled and may carry anything.
        log('debug', 'request refused or failed', { method: request.method.slice(0, 16), status: response.status });
      }
      return response;
    } catch (err) {
      log('error', 'unexpected error while handling a request', { error: err instanceof Error ? err.name : 'unknown' });
      return errorMessage(500, 'internal_error');
    }
  }

  const proxy: MauticProxy = {
    async handle(request, ctx) {
      const answered = await answer(new WebPlainRequest(request, config.timeoutMs), ctx);
      try {
        return asWebResponse(answered);
      } catch {
        // A header value the Fetch API refuses: `handle` never throws.
        return toWebResponse(errorMessage(500, 'internal_error'));
      }
    },
    identify(options) {
      if (!identifier) return Promise.reject(new Error('identify needs `auth` and `identify` in the proxy config'));
      return identifier.identify(options);
    },
    owns: (pathname) => routes.owns(pathname),
    basePath: config.basePath,
    maxBodyBytes: config.maxBodyBytes,
    timeoutMs: config.timeoutMs,
    rest,
  };
  plainHandlers.set(proxy, answer);
  if (input.fetch === undefined) {
    relayTransportOffers.set(proxy, (transport) => {
      relay.transport = transport;
    });
  }
  return proxy;
}

/** The plain-message entry of each proxy, for runtime adapters. */
const plainHandlers = new WeakMap<MauticProxy, PlainHandler>();

/** Handles one plain request; never throws (same policy as `handle`). */
export type PlainHandler = (request: PlainRequest, ctx: ProxyContext) => Promise<CoreAnswer>;

/**
 * For runtime adapters (internal): the proxy's entry that takes a `PlainRequest` and may answer
 * with a `PlainResponse`, skipping Web Request/Response objects on the hot relay routes.
 * `handle(request)` is this same entry behind a Request/Response conversion.
 */
export function plainHandlerOf(proxy: MauticProxy): PlainHandler | null {
  return plainHandlers.get(proxy) ?? null;
}

/** Proxies whose relay still uses the default `fetch`, and how to replace its transport. */
const relayTransportOffers = new WeakMap<MauticProxy, (transport: UpstreamTransport) => void>();

/**
 * For runtime adapters (internal): offers a faster runtime-native upstream transport for the
 * relay. Taken only when the config did not bring its own `fetch` (tests and instrumentation
 * keep theirs); returns whether it was taken. REST calls keep the configured `fetch`.
 */
export function offerRelayTransport(proxy: MauticProxy, transport: UpstreamTransport): boolean {
  const take = relayTransportOffers.get(proxy);
  if (!take) return false;
  take(transport);
  relayTransportOffers.delete(proxy);
  return true;
}

function makeAuth(config: ResolvedConfig): AuthProvider {
  const auth = config.auth!;
  return auth.type === 'basic'
    ? new BasicAuth({ username: auth.username, password: auth.password })
    : new OAuth2ClientCredentials({
        baseUrl: config.mauticUrl,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        fetch: config.fetch,
        timeoutMs: config.timeoutMs,
      });
}
