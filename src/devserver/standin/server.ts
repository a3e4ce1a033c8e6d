/**
 * The Mautic stand-in's HTTP server: reads and records each request, applies CORS and failure
 * injection, and dispatches to the tracking or REST handlers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { packagedScriptFile } from '../package-files.js';
import { ApiAuthenticator } from './api-auth.js';
import { BodyTooLargeError, readBody } from './body.js';
import { BotFilter, DEFAULT_BOT_USER_AGENTS } from './bots.js';
import { clientIp } from './client-ip.js';
import { TagIds } from './contact-json.js';
import { ContactStore } from './contact-store.js';
import { CorsPolicy, PREFLIGHT_REPLY_HEADERS } from './cors.js';
import { DwcHandler } from './dwc.js';
import { focusScript } from './focus.js';
import { DynamicContentStore, attachDynamicContent } from './dynamic-content.js';
import { FieldRegistry } from './fields.js';
import { FailureInjector, type Injection } from './failure-injection.js';
import { FormSubmitHandler } from './form-submit.js';
import { flattenHeaders, redactBody } from './headers.js';
import { OAuthServer } from './oauth.js';
import { RateLimiter } from './rate-limiter.js';
import { ChangeBus, Recorder } from './recorder.js';
import { errorReply, serverErrorReply, textReply, type Reply, type RequestContext } from './reply.js';
import { RestApi } from './rest.js';
import { SegmentStore } from './rest-segments.js';
import { classifyRoute } from './router.js';
import { TrackingHandlers } from './tracking.js';
import type { Contact, InjectOptions, Standin, StandinOptions, StandinSnapshot, StandinState, StandinRoute } from './types.js';
import { VisitorResolver } from './visitor.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_WAIT_MS = 5000;

/**
 * Starts a local Mautic stand-in that speaks docs/protocol.md §3–§7 over real HTTP and records what it
 * receives.
 *
 * @example
 * ```ts
 * const mautic = await startStandin({ cors: ['http://site.test:8080'], publiclyUpdatableFields: ['email'] });
 * // point a page's snippet at `${mautic.url}/mtc.js` (any Host header works, e.g. mautic.test)
 * await mautic.waitFor((s) => s.hits.length === 1, 5000);
 * console.log(mautic.hits[0]?.query.page_url, mautic.contacts[0]?.id);
 * mautic.inject({ route: 'event', status: 500, times: 1 }); // the next POST /mtc/event fails
 * await mautic.close();
 * ```
 */
export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const clock = options.clock ?? Date.now;
  const isoNow = (): string => new Date(clock()).toISOString();
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const mauticVersion = options.mauticVersion ?? '5.1.0';

  const bus = new ChangeBus();
  const recorder = new Recorder(bus, options.recordLimit ?? 10_000);
  // Live lists: fields made unique or publicly updatable through the API take effect at once.
  const fields = new FieldRegistry(options.uniqueFields ?? ['email'], options.publiclyUpdatableFields ?? [], isoNow);
  const uniqueFields = fields.uniqueAliases;
  const store = new ContactStore(bus, isoNow, fields);
  const cors = new CorsPolicy(options.cors ?? 'any');
  const injector = new FailureInjector();
  const visitors = new VisitorResolver(store);
  const tracking = new TrackingHandlers(store, recorder, visitors, {
    publiclyUpdatableFields: fields.publicAliases,
    uniqueFields,
    ignoredIps: new Set(options.ignoredIps ?? []),
    scriptFile: options.scriptFile ?? packagedScriptFile(),
    trackingEvents: options.trackingEvents,
    bots: new BotFilter(options.botUserAgents ?? DEFAULT_BOT_USER_AGENTS),
    trackByTrackingUrl: options.trackByTrackingUrl ?? false,
  });
  const dynamicContent = new DynamicContentStore(isoNow, options.dynamicContent ?? []);
  attachDynamicContent(store, dynamicContent);
  const dwc = new DwcHandler(store, visitors, dynamicContent);
  const formSubmit = new FormSubmitHandler(store, recorder, visitors, options.formMergeSurvivor ?? 'tracked');
  const apiEnabled = options.api?.enabled ?? true;
  const basicUsers = options.api?.basicUsers ?? [];
  const oauth = new OAuthServer(options.api?.clients ?? [], options.api?.tokenTtlSeconds ?? 3600, apiEnabled, options.api?.refreshTokenTtlSeconds);
  const limiter = new RateLimiter(options.api?.rateLimitPerHour ?? 0);
  const tagIds = new TagIds();
  const segments = new SegmentStore(options.segments ?? []);
  const rest = new RestApi(
    store,
    recorder,
    oauth,
    new ApiAuthenticator(oauth, { enabled: apiEnabled, basicAuth: options.api?.basicAuth ?? basicUsers.length > 0, basicUsers }),
    limiter,
    tagIds,
    uniqueFields,
    mauticVersion,
    segments,
  );

  const sockets = new Set<Socket>();
  const delays = new Set<NodeJS.Timeout>();
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.add(timer);
    });

  async function dispatch(ctx: RequestContext): Promise<Reply> {
    switch (ctx.route) {
      case 'event':
        return ctx.method === 'POST' ? tracking.event(ctx) : methodNotAllowed('POST');
      case 'pixel':
        return isGet(ctx.method) ? tracking.pixel(ctx) : methodNotAllowed('GET');
      case 'ids':
        return isGet(ctx.method) ? tracking.ids(ctx) : methodNotAllowed('GET');
      case 'script':
        return isGet(ctx.method) ? tracking.script() : methodNotAllowed('GET');
      case 'dwc':
        return dwc.handle(ctx);
      case 'api':
        return rest.handle(ctx);
      case 'form':
        return formSubmit.handle(ctx);
      default:
        return focusScript(ctx) ?? textReply(404, 'Not Found');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.intercept && (await options.intercept(req, res))) return;
    if (res.destroyed || closed) return;
    const method = (req.method ?? 'GET').toUpperCase();
    // Prefixing keeps a path like '//x' a path (the URL parser would read it as a host).
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl.startsWith('/') ? `http://standin.invalid${rawUrl}` : rawUrl, 'http://standin.invalid');
    const route = classifyRoute(method, url.pathname);
    const nowMs = clock();

    let body: Buffer;
    let tooLarge = false;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) return;
      body = Buffer.alloc(0);
      tooLarge = true;
    }
    if (res.destroyed || closed) return;

    const bodyText = body.toString('utf8');
    store.beginRequest();
    recorder.addRequest({
      at: new Date(nowMs).toISOString(),
      method,
      path: url.pathname,
      search: url.search,
      route,
      headers: flattenHeaders(req.headers),
      body: route === 'api' ? redactBody(bodyText) : bodyText,
    });

    const ctx: RequestContext = {
      method,
      path: url.pathname,
      search: url.search,
      rawQuery: url.search.slice(1),
      headers: req.headers,
      body,
      bodyText,
      route,
      ip: clientIp(req.headers, req.socket.remoteAddress),
      nowMs,
      origin: `http://${req.headers.host ?? address}`,
    };

    if (method === 'OPTIONS') {
      write(res, { status: 204, headers: { ...PREFLIGHT_REPLY_HEADERS } }, cors.preflightHeaders(req.headers));
      return;
    }

    if (tooLarge) {
      const reply = route === 'api'
        ? errorReply(413, `Request body exceeds ${maxBodyBytes} bytes.`)
        : textReply(413, 'Payload Too Large');
      write(res, reply, cors.responseHeaders(req.headers));
      return;
    }

    const injection = injector.take(route);
    if (injection) {
      const handled = await applyInjection(injection, req, res, route);
      if (handled || res.destroyed || closed) return;
    }

    let reply: Reply;
    try {
      reply = await dispatch(ctx);
    } catch {
      reply = route === 'api' ? serverErrorReply() : textReply(500, 'Internal Server Error');
    }
    if (res.destroyed || closed) return;
    write(res, reply, cors.responseHeaders(req.headers));
  }

  /** Returns true when the injection produced the whole outcome (no real handling follows). */
  async function applyInjection(injection: Injection, req: IncomingMessage, res: ServerResponse, route: StandinRoute): Promise<boolean> {
    if (injection.delayMs) await sleep(injection.delayMs);
    if (res.destroyed || closed) return true;
    if (injection.refuse) {
      req.socket.destroy();
      return true;
    }
    if (injection.hang) return true; // close() destroys the socket.
    if (injection.status !== undefined) {
      const status = injection.status;
      const reply = injection.body !== undefined
        ? textReply(status, injection.body)
        : route === 'api'
          ? errorReply(status, `Injected failure (${status}).`)
          : textReply(status, `Injected failure (${status})`);
      write(res, reply, cors.responseHeaders(req.headers));
      return true;
    }
    return false;
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.end();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : (options.port ?? 0);
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const url = `http://${address}`;

  function state(): StandinState {
    return {
      hits: recorder.hits,
      requests: recorder.requests,
      contacts: store.snapshot(),
      apiCalls: recorder.apiCalls,
      devices: structuredClone(store.devices.list()),
      merges: store.merges,
      formSubmissions: store.forms.submissions,
    };
  }

  return {
    url,
    port,
    get hits() {
      return recorder.hits;
    },
    get requests() {
      return recorder.requests;
    },
    get contacts() {
      return store.snapshot();
    },
    get apiCalls() {
      return recorder.apiCalls;
    },
    get devices() {
      return structuredClone(store.devices.list());
    },
    get merges() {
      return store.merges;
    },
    get formSubmissions() {
      return store.forms.submissions;
    },
    contact(id: number): Contact | undefined {
      const contact = store.get(id);
      return contact ? structuredClone(contact) : undefined;
    },
    inject(injectOptions: InjectOptions): void {
      injector.add(injectOptions);
    },
    clearInjections(): void {
      injector.clear();
    },
    reset(): void {
      recorder.clear();
      store.clear();
      oauth.clear();
      limiter.clear();
      tagIds.clear();
      dynamicContent.reset();
      segments.clear();
      injector.clear();
      bus.emit({ type: 'reset' });
    },
    waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
      return waitFor(bus, state, predicate, timeoutMs);
    },
    subscribe(listener) {
      return bus.subscribe(listener);
    },
    snapshot(): StandinSnapshot {
      return { version: 1, exportedAt: isoNow(), url, ...state() };
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      injector.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
    },
  };
}

/** Event-driven: the predicate runs now and after every change, never on a polling timer. */
function waitFor(
  bus: ChangeBus,
  state: () => StandinState,
  predicate: (state: StandinState) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    let unsubscribe = (): void => {};
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      if (error === undefined) resolve();
      else reject(error);
    };
    const check = (): void => {
      try {
        if (predicate(state())) finish();
      } catch (error) {
        finish(error);
      }
    };
    const timer = setTimeout(() => {
      const s = state();
      finish(
        new Error(
          `standin.waitFor timed out after ${timeoutMs} ms: the predicate never became true ` +
            `(${s.hits.length} hits, ${s.requests.length} requests, ${s.contacts.length} contacts, ` +
            `${s.apiCalls.length} API calls recorded)`,
        ),
      );
    }, timeoutMs);
    timer.unref();
    unsubscribe = bus.subscribe(check);
    check();
  });
}

function isGet(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

function methodNotAllowed(allow: string): Reply {
  return textReply(405, 'Method Not Allowed', { Allow: allow });
}

function write(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const headers = { ...reply.headers, ...extraHeaders };
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = reply.status;
  res.end(reply.body);
}
