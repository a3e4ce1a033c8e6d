/**
 * Mautic's OAuth2 token endpoint (docs/protocol.md §10.6): `/oauth/v2/token` by POST (form or
 * JSON body) or GET (query), checked in Mautic's order: the API switch, a known grant type, the
 * client's credentials, then whether this client may use that grant. Tokens for
 * `client_credentials` expire after `tokenTtlSeconds`; an expired one is told apart from an
 * unknown one, as Mautic does.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OAuthTokenResponse } from '../../protocol/rest.js';
import { parseFormLikePhp, isFormContentType, mediaType } from './body.js';
import { apiDisabledReply, jsonReply, oauthErrorReply, type Reply, type RequestContext } from './reply.js';
import type { OAuthGrantType, StandinApiClient } from './types.js';

interface IssuedToken {
  clientId: string;
  userName: string;
  expiresAtMs: number;
}

export type TokenCheck = { ok: true; clientId: string; userName: string } | { ok: false; reason: 'unknown' | 'expired' };

/** Grant types Mautic's OAuth2 server knows; anything else is an invalid request. */
const KNOWN_GRANTS: ReadonlySet<string> = new Set<OAuthGrantType>(['client_credentials', 'authorization_code', 'refresh_token', 'password']);

export const DEFAULT_CLIENT_NAME = 'stand-in client [1]';

/** Expired tokens are remembered this long, to answer "has expired" rather than "is invalid". */
const EXPIRED_MEMORY_MS = 24 * 3600 * 1000;

export class OAuthServer {
  private tokens = new Map<string, IssuedToken>();

  constructor(
    private readonly clients: StandinApiClient[],
    private readonly ttlSeconds: number,
    private readonly apiEnabled: boolean,
  ) {}

  /** `GET|POST /oauth/v2/token`. Credentials come from the body, the query or HTTP Basic. */
  token(ctx: RequestContext): { reply: Reply; clientId: string | null } {
    if (!this.apiEnabled) return { reply: apiDisabledReply(), clientId: null };
    const params = tokenParams(ctx);
    const grantType = params.grant_type;
    if (!grantType || !KNOWN_GRANTS.has(grantType)) {
      return { reply: oauthErrorReply(400, 'invalid_request', 'Invalid grant_type parameter or parameter missing'), clientId: null };
    }
    const basic = basicCredentials(ctx.headers.authorization);
    const clientId = params.client_id ?? basic?.username ?? '';
    const clientSecret = params.client_secret ?? basic?.password ?? '';
    const client = this.clients.find((candidate) => candidate.id === clientId);
    if (!client || !sameSecret(client.secret, clientSecret)) {
      return { reply: oauthErrorReply(400, 'invalid_client', 'The client credentials are invalid'), clientId: null };
    }
    const allowed = client.grantTypes ?? ['client_credentials'];
    if (!allowed.includes(grantType as OAuthGrantType)) {
      return { reply: oauthErrorReply(400, 'unauthorized_client', 'The grant type is unauthorized for this client_id'), clientId: client.id };
    }
    if (grantType !== 'client_credentials') {
      return {
        reply: oauthErrorReply(400, 'unsupported_grant_type', `The stand-in issues tokens for client_credentials only, not ${grantType}`),
        clientId: client.id,
      };
    }
    this.forgetLongExpired(ctx.nowMs);
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId: client.id, userName: client.name ?? DEFAULT_CLIENT_NAME, expiresAtMs: ctx.nowMs + this.ttlSeconds * 1000 });
    const body: OAuthTokenResponse = {
      access_token: accessToken,
      expires_in: this.ttlSeconds,
      token_type: 'bearer',
      scope: null,
    };
    return { reply: jsonReply(200, body, { 'Cache-Control': 'no-store, private', Pragma: 'no-cache' }), clientId: client.id };
  }

  check(accessToken: string, nowMs: number): TokenCheck {
    const issued = this.tokens.get(accessToken);
    if (!issued) return { ok: false, reason: 'unknown' };
    if (nowMs >= issued.expiresAtMs) return { ok: false, reason: 'expired' };
    return { ok: true, clientId: issued.clientId, userName: issued.userName };
  }

  clear(): void {
    this.tokens.clear();
  }

  private forgetLongExpired(nowMs: number): void {
    for (const [token, issued] of this.tokens) {
      if (nowMs - issued.expiresAtMs > EXPIRED_MEMORY_MS) this.tokens.delete(token);
    }
  }
}

function tokenParams(ctx: RequestContext): Record<string, string> {
  const params = parseFormLikePhp(ctx.rawQuery);
  if (ctx.method === 'GET') return params;
  if (isFormContentType(ctx.headers['content-type'])) return { ...params, ...parseFormLikePhp(ctx.bodyText) };
  if (mediaType(ctx.headers['content-type']) === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(ctx.bodyText);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [key, value] of Object.entries(parsed)) {
          if (typeof value === 'string') params[key] = value;
        }
      }
    } catch {
      // Malformed JSON: no parameters, so the request fails as invalid_request.
    }
  }
  return params;
}

/** `Authorization: Basic base64(user:pass)`, or undefined. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
