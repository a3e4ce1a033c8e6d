/**
 * `createMauticProxy`: the Web-standard core. Every request goes through one dispatch on the
 * core's plain messages (plain-message.ts): `handlePlain` for runtime adapters (the Node listener
 * builds them straight from `IncomingMessage`), `handle(Request)` behind the Web adapter for
 * Workers, Deno, Bun and Next.js route handlers. Imports nothing from Node: only fetch, WebCrypto,
 * URL, TextEncoder/Decoder. A runtime entry passes what it has better than `fetch` through
 * `createProxy`'s `runtime` (src/server/node/index.ts: the keep-alive transport).
 */
import { ROUTE_METHODS } from '../../protocol/routes.js';
import { BasicAuth, OAuth2AuthorizationCode, OAuth2ClientCredentials, type AuthProvider } from '../rest/auth.js';
import { MauticRestClient } from '../rest/client.js';
import { KeyValueTokenStore } from '../rest/token-store.js';
import { CACHE_KEY_PREFIX } from './store.js';
import { BindingSigner } from './binding.js';
import { resolveConfig, type MauticProxyConfig, type ResolvedConfig } from './config.js';
import { contentRouteOf, relayContent } from './content-relay.js';
import { errorMessage, methodNotAllowedMessage } from './http.js';
import { Identifier, type ServerIdentifyOptions, type ServerIdentifyResult } from './identify.js';
import { createLog } from './logger.js';
import { Deadlines, fetchTransport } from './fetch-transport.js';
import type { PlainRequest, PlainResponse } from './plain-message.js';
import { Relay } from './relay.js';
import { RouteTable } from './route-table.js';
import { ScriptAsset } from './script.js';
import { MemoryStore } from './store.js';
import type { UpstreamTransport } from './upstream.js';
import { toWebResponse, WebPlainRequest } from './web-adapter.js';

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
  /**
   * `handle` on the core's plain messages, for runtime adapters that can build them more cheaply
   * than a Web `Request` (the Node listener does). Same checks, same answers, never throws.
   */
  handlePlain(request: PlainRequest, ctx: ProxyContext): Promise<PlainResponse>;
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
  return createProxy(input, {});
}

/** What a runtime entry gives the core beyond the config (internal: the entries' seam). */
export interface ProxyRuntime {
  /**
   * The relay's transport when the config brings no `fetch` of its own (a configured `fetch` is
   * instrumentation or a test: it is always kept). Default: `fetch`.
   */
  relayTransport?: () => UpstreamTransport;
}

/** `createMauticProxy` with the runtime's additions. */
export function createProxy(input: MauticProxyConfig, runtime: ProxyRuntime): MauticProxy {
  const config: ResolvedConfig = resolveConfig(input);
  const authProvider = config.auth ? makeAuth(config) : null;
  const log = createLog(config.logger, () => [...config.secrets, ...(authProvider?.secrets ?? [])]);
  const binding = new BindingSigner(config.secret, config.bindingMaxAgeSeconds);
  const routes = new RouteTable(config.basePath, config.paths, config.maxUrlLength);
  const transport =
    input.fetch === undefined && runtime.relayTransport ? runtime.relayTransport() : fetchTransport(config.fetch, new Deadlines(config.timeoutMs));
  const relay = new Relay({ config, binding, log, transport });
  const script = config.script ? new ScriptAsset(config.script, config.scriptMaxAgeSeconds) : null;
  const rest = authProvider
    ? new MauticRestClient({ baseUrl: config.mauticUrl, auth: authProvider, fetch: config.fetch, timeoutMs: config.timeoutMs })
    : null;
  const identifier = rest && config.identify ? new Identifier({ config, binding, client: rest, log }) : null;

  /**
   * Routes one request. Not `async`: the relay's promise is returned as it is (an async function
   * returning a promise costs two more microtasks per hit), and `answer` catches what it throws.
   */
  function dispatch(request: PlainRequest, ctx: ProxyContext): PlainResponse | Promise<PlainResponse> {
    let url: URL;
    try {
      url = request.parsedUrl ?? new URL(request.url);
    } catch {
      return errorMessage(400, 'bad_request');
    }
    const match = routes.match(url);
    if (match.kind === 'rejected') return errorMessage(match.status, match.status === 414 ? 'url_too_long' : 'bad_request');
    if (match.kind === 'unknown') {
      // Dynamic web content and focus items: Mautic's paths, not renamable routes (content-relay.ts).
      const content = contentRouteOf(config, url.pathname);
      if (content) return relayContent({ config, transport, log }, content, request, url, clientIpOf(ctx));
    }
    if (match.kind !== 'route') return errorMessage(404, 'not_found');
    const { route } = match;
    if (!ROUTE_METHODS[route].includes(request.method)) return methodNotAllowedMessage(ROUTE_METHODS[route]);
    const clientIp = clientIpOf(ctx);
    switch (route) {
      case 'script':
        return script ? script.respond(request) : errorMessage(404, 'not_found');
      case 'identify':
        return identifier ? identifier.handleRequest(request, url, clientIp) : errorMessage(404, 'not_found');
      default:
        return relay.handle(route, request, url, clientIp);
    }
  }

  let warnedEvictions = 0;
  const memoryStores = [...new Set([config.store, config.hitStore])].filter((store) => store instanceof MemoryStore);
  /** A full memory store forgets live entries (a spent token, a hit id): say so, once per thousand. */
  function checkMemoryStore(): void {
    let evicted = 0;
    for (const store of memoryStores) evicted += store.evicted;
    if (evicted <= warnedEvictions) return;
    if (warnedEvictions === 0 || evicted - warnedEvictions >= 1000) {
      warnedEvictions = evicted;
      log('warn', 'memory store is full: live entries were forgotten; pass a store with a larger maxEntries, or a shared store', { evicted });
    }
  }

  /** `dispatch` with the failure policy: never throws, logs refusals without request data. */
  async function answer(request: PlainRequest, ctx: ProxyContext): Promise<PlainResponse> {
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
        return toWebResponse(answered);
      } catch {
        // A header value the Fetch API refuses: `handle` never throws.
        return toWebResponse(errorMessage(500, 'internal_error'));
      }
    },
    handlePlain: answer,
    identify(options) {
      if (!identifier) return Promise.reject(new Error('identify needs `auth` and `identify` in the proxy config'));
      const { request, ...rest } = options;
      return identifier.identify(request ? { ...rest, request: new WebPlainRequest(request, config.timeoutMs) } : rest);
    },
    owns: (pathname) => routes.owns(pathname),
    basePath: config.basePath,
    maxBodyBytes: config.maxBodyBytes,
    timeoutMs: config.timeoutMs,
    rest,
  };
  return proxy;
}

function clientIpOf(ctx: ProxyContext | undefined): string {
  return typeof ctx?.clientIp === 'string' ? ctx.clientIp : '';
}

function makeAuth(config: ResolvedConfig): AuthProvider {
  const auth = config.auth!;
  if (auth.type === 'basic') return new BasicAuth({ username: auth.username, password: auth.password });
  const common = { baseUrl: config.mauticUrl, clientId: auth.clientId, clientSecret: auth.clientSecret, fetch: config.fetch, timeoutMs: config.timeoutMs };
  return auth.grant === 'authorization_code'
    ? new OAuth2AuthorizationCode({ ...common, tokens: auth.tokens })
    : new OAuth2ClientCredentials({ ...common, tokens: auth.tokens ?? sharedTokenCache(config, auth.clientId) });
}

/**
 * Without a token store of its own, the client_credentials token lives in the proxy's store, so
 * instances sharing a store share one access token instead of each asking Mautic for its own.
 * Under `CACHE_KEY_PREFIX`: a cache any instance may rebuild (Cloudflare keeps it in KV).
 */
function sharedTokenCache(config: ResolvedConfig, clientId: string): KeyValueTokenStore {
  return new KeyValueTokenStore(config.store, { key: `${CACHE_KEY_PREFIX}oauth2:${encodeURIComponent(clientId).slice(0, 200)}`, minTtlMs: 60_000 });
}
