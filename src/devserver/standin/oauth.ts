/**
 * OAuth2 `client_credentials` (PROTOCOL §7): `POST /oauth/v2/token` issues bearer tokens that
 * expire after `tokenTtlSeconds`; errors use Mautic's rewritten `{"errors":[…]}` shape.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OAuthTokenResponse } from '../../protocol/rest.js';
import { parseFormLikePhp, isFormContentType, mediaType } from './body.js';
import { jsonReply, oauthErrorReply, type Reply, type RequestContext } from './reply.js';

interface IssuedToken {
  clientId: string;
  expiresAtMs: number;
}

export type TokenCheck = { ok: true; clientId: string } | { ok: false };

export class OAuthServer {
  private tokens = new Map<string, IssuedToken>();

  constructor(
    private readonly clients: { id: string; secret: string }[],
    private readonly ttlSeconds: number,
  ) {}

  /** `POST /oauth/v2/token`. Credentials come from the form (or JSON) body or HTTP Basic. */
  token(ctx: RequestContext): { reply: Reply; clientId: string | null } {
    const params = tokenParams(ctx);
    const grantType = params.grant_type;
    if (!grantType) {
      return { reply: oauthErrorReply(400, 'invalid_request', 'Invalid grant_type parameter or parameter missing'), clientId: null };
    }
    const basic = basicCredentials(ctx.headers.authorization);
    const clientId = params.client_id ?? basic?.username ?? '';
    const clientSecret = params.client_secret ?? basic?.password ?? '';
    const client = this.clients.find((candidate) => candidate.id === clientId);
    if (!client || !sameSecret(client.secret, clientSecret)) {
      return { reply: oauthErrorReply(400, 'invalid_client', 'The client credentials are invalid'), clientId: null };
    }
    if (grantType !== 'client_credentials') {
      return { reply: oauthErrorReply(400, 'unsupported_grant_type', 'Invalid grant_type parameter or parameter missing'), clientId: client.id };
    }
    const accessToken = randomBytes(32).toString('hex');
    this.tokens.set(accessToken, { clientId: client.id, expiresAtMs: ctx.nowMs + this.ttlSeconds * 1000 });
    const body: OAuthTokenResponse = {
      access_token: accessToken,
      expires_in: this.ttlSeconds,
      token_type: 'bearer',
      scope: null,
    };
    return { reply: jsonReply(200, body, { 'Cache-Control': 'no-store', Pragma: 'no-cache' }), clientId: client.id };
  }

  check(accessToken: string, nowMs: number): TokenCheck {
    const issued = this.tokens.get(accessToken);
    if (!issued) return { ok: false };
    if (nowMs >= issued.expiresAtMs) {
      this.tokens.delete(accessToken);
      return { ok: false };
    }
    return { ok: true, clientId: issued.clientId };
  }

  clear(): void {
    this.tokens.clear();
  }
}

function tokenParams(ctx: RequestContext): Record<string, string> {
  const params = parseFormLikePhp(ctx.rawQuery);
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
