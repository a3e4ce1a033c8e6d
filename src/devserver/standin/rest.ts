/**
 * The stand-in's REST API (docs/protocol.md §7): token endpoint, authentication, rate limit, then one
 * route table that each resource module registers on (contacts, contact actions, …). Resource
 * modules know nothing of auth or recording; this dispatcher knows nothing of resources.
 */
import type { ApiAuthenticator } from './api-auth.js';
import { isFormContentType, mediaType, parseFormLikePhp } from './body.js';
import type { TagIds } from './contact-json.js';
import type { ContactStore } from './contact-store.js';
import { registerDynamicContentRoutes } from './dynamic-content.js';
import type { OAuthServer } from './oauth.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Recorder } from './recorder.js';
import { MAUTIC_VERSION_HEADER } from '../../protocol/rest.js';
import { errorReply, jsonReply, routeNotFoundReply, serverErrorReply, type Reply, type RequestContext } from './reply.js';
import { registerContactActionRoutes } from './rest-contact-actions.js';
import { registerContactActivityRoutes } from './rest-contact-activity.js';
import { registerContactRoutes } from './rest-contacts.js';
import { registerDeviceRoutes } from './rest-devices.js';
import { registerFieldRoutes } from './rest-fields.js';
import { registerFormRoutes } from './rest-forms.js';
import { registerSegmentRoutes, type SegmentStore } from './rest-segments.js';
import { InternalServerError, ValidationError, type ApiRoute, type HandlerResult, type RestDeps } from './rest-support.js';
import { Router } from './router.js';

/** Symfony's default for answers that set no cache headers of their own. */
const API_CACHE_CONTROL = 'no-cache, private';

export class RestApi {
  private readonly router = new Router<ApiRoute>();

  constructor(
    private readonly store: ContactStore,
    private readonly recorder: Recorder,
    private readonly oauth: OAuthServer,
    private readonly auth: ApiAuthenticator,
    private readonly limiter: RateLimiter,
    tagIds: TagIds,
    uniqueFields: string[],
    /** `Mautic-Version` of the answers API controllers produce (and only those: docs/protocol.md §10.3). */
    private readonly mauticVersion: string,
    segments: SegmentStore,
  ) {
    const deps: RestDeps = { store, recorder, tagIds, uniqueFields };
    registerContactRoutes(this.router, deps);
    registerContactActionRoutes(this.router, deps);
    registerSegmentRoutes(this.router, deps, segments);
    registerDynamicContentRoutes(this.router, deps);
    registerDeviceRoutes(this.router, deps);
    registerFieldRoutes(this.router, deps);
    registerFormRoutes(this.router, deps);
    registerContactActivityRoutes(this.router, deps);
  }

  /** Handles any request of the 'api' route class (`/api/*`, `/oauth/*`). */
  handle(ctx: RequestContext): Reply {
    return withDefaultCacheControl(this.answer(ctx));
  }

  private answer(ctx: RequestContext): Reply {
    if (ctx.path === '/oauth/v2/token') {
      if (ctx.method !== 'POST' && ctx.method !== 'GET') return routeNotFoundReply(ctx.path);
      const { reply, clientId } = this.oauth.token(ctx);
      this.record(ctx, 'token', reply.status, null, clientId ? `oauth:${clientId}` : null);
      return reply;
    }
    if (ctx.path === '/oauth/v2/authorize') {
      if (ctx.method !== 'POST' && ctx.method !== 'GET') return routeNotFoundReply(ctx.path);
      const { reply, clientId } = this.oauth.authorize(ctx);
      this.record(ctx, 'authorize', reply.status, null, clientId ? `oauth:${clientId}` : null);
      return reply;
    }

    const auth = this.auth.authenticate(ctx.headers.authorization, ctx.nowMs);
    if (!auth.ok) {
      this.record(ctx, 'auth', auth.reply.status, null, null);
      return auth.reply;
    }
    this.store.actAs(auth.userName);

    let rateHeaders: Record<string, string> = {};
    if (this.limiter.enabled) {
      const decision = this.limiter.hit(auth.key, ctx.nowMs);
      rateHeaders = decision.headers;
      if (!decision.allowed) {
        this.record(ctx, 'rate-limited', 429, null, auth.caller);
        return withHeaders(
          jsonReply(429, {
            errors: [{ code: 429, message: `You exceeded the rate limit of ${decision.limit} API calls per hour.`, details: [] }],
          }),
          rateHeaders,
        );
      }
    }

    // A route Mautic does not have (its router answers, not a controller: no Mautic-Version).
    const match = this.router.match(ctx.method, ctx.path);
    if (match === undefined || match === 'method-not-allowed') {
      const reply = routeNotFoundReply(ctx.path);
      this.record(ctx, 'unknown', reply.status, null, auth.caller);
      return withHeaders(reply, rateHeaders);
    }

    let result: HandlerResult;
    const data = parseApiBody(ctx);
    if (data instanceof Error) {
      result = { reply: errorReply(400, data.message), contactId: null };
    } else {
      try {
        result = match.handler.handler(ctx, match.params, data);
      } catch (error) {
        if (error instanceof InternalServerError) {
          this.record(ctx, match.handler.operation, 500, null, auth.caller);
          return withHeaders(serverErrorReply(), rateHeaders);
        }
        if (!(error instanceof ValidationError)) throw error;
        result = { reply: errorReply(error.status, error.message, { details: error.detailsJson }), contactId: null };
      }
    }
    this.record(ctx, match.handler.operation, result.reply.status, result.contactId, auth.caller);
    return withHeaders(result.reply, { ...rateHeaders, [MAUTIC_VERSION_HEADER]: this.mauticVersion });
  }

  private record(ctx: RequestContext, operation: string, status: number, contactId: number | null, caller: string | null): void {
    this.recorder.addApiCall({
      at: new Date(ctx.nowMs).toISOString(),
      method: ctx.method,
      path: ctx.path,
      operation,
      status,
      contactId,
      caller,
    });
  }
}

/** JSON or form bodies, as Mautic's API accepts both; an empty body is `{}`. */
function parseApiBody(ctx: RequestContext): unknown {
  if (ctx.bodyText.trim() === '') return {};
  if (isFormContentType(ctx.headers['content-type'])) return parseFormLikePhp(ctx.bodyText);
  const type = mediaType(ctx.headers['content-type']);
  if (type === 'application/json' || type === '' || type.endsWith('+json')) {
    try {
      return JSON.parse(ctx.bodyText) as unknown;
    } catch {
      return new Error('Request body is not valid JSON.');
    }
  }
  return new Error(`Unsupported content type: ${type}`);
}

function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  return { ...reply, headers: { ...reply.headers, ...headers } };
}

function withDefaultCacheControl(reply: Reply): Reply {
  const named = Object.keys(reply.headers ?? {}).some((name) => name.toLowerCase() === 'cache-control');
  return named ? reply : withHeaders(reply, { 'Cache-Control': API_CACHE_CONTROL });
}
