/**
 * Mautic's OAuth2 server (docs/protocol.md §10.6). `/oauth/v2/token` by POST (form or JSON body)
 * or GET (query), checked in Mautic's order: the API switch, a known grant type, the client's
 * credentials, then whether this client may use that grant. Access tokens expire after
 * `tokenTtlSeconds`; an expired one is told apart from an unknown one, as Mautic does.
 *
 * `/oauth/v2/authorize` and the `authorization_code` and `refresh_token` grants follow the
 * OAuth2 library Mautic 5.1 uses (FOSOAuthServerBundle, read in its source, not recorded): a code
 * lives 30 s and works once, for the redirect URI it was issued to; every refresh answers a new
 * refresh token and deletes the one used (rotation); refresh tokens live 14 days. Unlike
 * Mautic, the stand-in asks no Mautic user to log in: its consent page is the whole step.
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

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  expiresAtMs: number;
}

/** Mautic's defaults: codes 30 s (the OAuth2 library's), refresh tokens 14 days. */
const CODE_TTL_MS = 30_000;
export const DEFAULT_REFRESH_TTL_SECONDS = 14 * 86_400;

export type TokenCheck = { ok: true; clientId: string; userName: string } | { ok: false; reason: 'unknown' | 'expired' };

/** Grant types Mautic's OAuth2 server knows; anything else is an invalid request. */
const KNOWN_GRANTS: ReadonlySet<string> = new Set<OAuthGrantType>(['client_credentials', 'authorization_code', 'refresh_token', 'password']);

export const DEFAULT_CLIENT_NAME = 'stand-in client [1]';

/** Expired tokens are remembered this long, to answer "has expired" rather than "is invalid". */
const EXPIRED_MEMORY_MS = 24 * 3600 * 1000;

export class OAuthServer {
  private tokens = new Map<string, IssuedToken>();
  private codes = new Map<string, IssuedCode>();
  private refreshTokens = new Map<string, IssuedToken>();

  constructor(
    private readonly clients: StandinApiClient[],
    private readonly ttlSeconds: number,
    private readonly apiEnabled: boolean,
    private readonly refreshTtlSeconds: number = DEFAULT_REFRESH_TTL_SECONDS,
  ) {}

  /**
   * `GET /oauth/v2/authorize`: the consent page; `POST`: its answer, a 302 to the redirect URI
   * with `code` and `state` (accepted) or `error=access_denied` (denied). Errors before the
   * redirect URI is known are JSON 400s, as Mautic's library raises them.
   */
  authorize(ctx: RequestContext): { reply: Reply; clientId: string | null } {
    if (!this.apiEnabled) return { reply: apiDisabledReply(), clientId: null };
    const params = ctx.method === 'POST' && isFormContentType(ctx.headers['content-type'])
      ? { ...parseFormLikePhp(ctx.rawQuery), ...parseFormLikePhp(ctx.bodyText) }
      : parseFormLikePhp(ctx.rawQuery);
    if (!params.client_id) return { reply: oauthErrorReply(400, 'invalid_request', 'No client id supplied'), clientId: null };
    const client = this.clients.find((candidate) => candidate.id === params.client_id);
    if (!client) return { reply: oauthErrorReply(400, 'invalid_client', 'Unknown client'), clientId: null };
    const redirect = redirectUriFor(client, params.redirect_uri);
    if (!redirect.ok) return { reply: oauthErrorReply(400, 'redirect_uri_mismatch', redirect.message), clientId: client.id };
    const state = params.state ?? '';
    if (params.response_type !== 'code') {
      const error = params.response_type ? 'unsupported_response_type' : 'invalid_request';
      return { reply: redirectReply(redirect.uri, { error, ...(params.response_type ? {} : { error_description: 'Invalid response type.' }), state }), clientId: client.id };
    }
    if (ctx.method === 'GET') return { reply: consentPage(client, params), clientId: client.id };
    if (params.accepted === undefined) {
      return { reply: redirectReply(redirect.uri, { error: 'access_denied', error_description: 'The user denied access to your application', state }), clientId: client.id };
    }
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { clientId: client.id, redirectUri: redirect.uri, expiresAtMs: ctx.nowMs + CODE_TTL_MS });
    return { reply: redirectReply(redirect.uri, { state, code }), clientId: client.id };
  }

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
    if (grantType === 'password') {
      return { reply: oauthErrorReply(400, 'unsupported_grant_type', 'The stand-in has no users for the password grant'), clientId: client.id };
    }
    this.forgetLongExpired(ctx.nowMs);
    let refreshing: string | null = null;
    if (grantType === 'authorization_code') {
      const refused = this.redeemCode(client, params, ctx.nowMs);
      if (refused) return { reply: refused, clientId: client.id };
    } else if (grantType === 'refresh_token') {
      const token = params.refresh_token;
      if (!token) return { reply: oauthErrorReply(400, 'invalid_request', 'No "refresh_token" parameter found'), clientId: client.id };
      const issued = this.refreshTokens.get(token);
      if (!issued || issued.clientId !== client.id) return { reply: oauthErrorReply(400, 'invalid_grant', 'Invalid refresh token'), clientId: client.id };
      if (ctx.nowMs >= issued.expiresAtMs) return { reply: oauthErrorReply(400, 'invalid_grant', 'Refresh token has expired'), clientId: client.id };
      refreshing = token;
    }
    const userName = client.name ?? DEFAULT_CLIENT_NAME;
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId: client.id, userName, expiresAtMs: ctx.nowMs + this.ttlSeconds * 1000 });
    const body: OAuthTokenResponse = {
      access_token: accessToken,
      expires_in: this.ttlSeconds,
      token_type: 'bearer',
      scope: null,
    };
    if (grantType !== 'client_credentials') {
      // Rotation: the new refresh token replaces the one used, which stops working now.
      if (refreshing) this.refreshTokens.delete(refreshing);
      const refreshToken = randomBytes(32).toString('base64url');
      this.refreshTokens.set(refreshToken, { clientId: client.id, userName, expiresAtMs: ctx.nowMs + this.refreshTtlSeconds * 1000 });
      body.refresh_token = refreshToken;
    }
    return { reply: jsonReply(200, body, { 'Cache-Control': 'no-store, private', Pragma: 'no-cache' }), clientId: client.id };
  }

  /** Checks an authorization code as Mautic's library does, and spends it; a refusal reply, or null. */
  private redeemCode(client: StandinApiClient, params: Record<string, string>, nowMs: number): Reply | null {
    if (!params.code) return oauthErrorReply(400, 'invalid_request', 'Missing parameter. "code" is required');
    const issued = this.codes.get(params.code);
    if (!issued || issued.clientId !== client.id) return oauthErrorReply(400, 'invalid_grant', "Code doesn't exist or is invalid for the client");
    if (params.redirect_uri && !redirectMatches(params.redirect_uri, [issued.redirectUri])) {
      return oauthErrorReply(400, 'redirect_uri_mismatch', 'The redirect URI is missing or do not match');
    }
    if (nowMs >= issued.expiresAtMs) return oauthErrorReply(400, 'invalid_grant', 'The authorization code has expired');
    this.codes.delete(params.code);
    return null;
  }

  check(accessToken: string, nowMs: number): TokenCheck {
    const issued = this.tokens.get(accessToken);
    if (!issued) return { ok: false, reason: 'unknown' };
    if (nowMs >= issued.expiresAtMs) return { ok: false, reason: 'expired' };
    return { ok: true, clientId: issued.clientId, userName: issued.userName };
  }

  clear(): void {
    this.tokens.clear();
    this.codes.clear();
    this.refreshTokens.clear();
  }

  private forgetLongExpired(nowMs: number): void {
    for (const [token, issued] of this.tokens) {
      if (nowMs - issued.expiresAtMs > EXPIRED_MEMORY_MS) this.tokens.delete(token);
    }
    // Dead codes and refresh tokens stay known a while, to answer "has expired" as Mautic does.
    for (const [code, issued] of this.codes) if (nowMs - issued.expiresAtMs > EXPIRED_MEMORY_MS) this.codes.delete(code);
    for (const [token, issued] of this.refreshTokens) if (nowMs - issued.expiresAtMs > EXPIRED_MEMORY_MS) this.refreshTokens.delete(token);
  }
}

/** The library's rule: an input URI must start with a registered one (case-insensitive), and no `..` in its path. */
function redirectMatches(input: string, registered: readonly string[]): boolean {
  // The path as sent: a URL parser would already have resolved the `..` being looked for.
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(input);
  if (!raw) return false;
  let path: string;
  try {
    path = decodeURIComponent(raw[1] ?? '');
  } catch {
    return false;
  }
  if (/\/\.\.?(\/|$)/.test(path)) return false;
  return registered.some((uri) => uri !== '' && input.slice(0, uri.length).toLowerCase() === uri.toLowerCase());
}

function redirectUriFor(client: StandinApiClient, given: string | undefined): { ok: true; uri: string } | { ok: false; message: string } {
  const registered = client.redirectUris ?? [];
  if (!given) {
    if (registered.length === 0) return { ok: false, message: 'No redirect URL was supplied or registered.' };
    if (registered.length > 1) return { ok: false, message: 'No redirect URL was supplied and more than one is registered.' };
    return { ok: true, uri: registered[0]! };
  }
  if (!redirectMatches(given, registered)) return { ok: false, message: 'The redirect URI provided does not match registered URI(s).' };
  return { ok: true, uri: given };
}

/** A 302 to `uri` with `params` added to its query, as the library builds it. */
function redirectReply(uri: string, params: Record<string, string>): Reply {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) url.searchParams.append(key, value);
  return { status: 302, headers: { Location: url.toString(), 'Content-Type': 'text/html; charset=UTF-8' }, body: '' };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The consent step: a form that posts the same parameters back, with `accepted` only when accepted. */
function consentPage(client: StandinApiClient, params: Record<string, string>): Reply {
  const hidden = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'grant_type']
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name]!)}">`)
    .join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Authorize ${escapeHtml(client.name ?? client.id)}</title></head>
<body><h1>Mautic stand-in</h1><p><strong>${escapeHtml(client.name ?? client.id)}</strong> asks for access to the API.</p>
<form method="post">${hidden}<button type="submit" name="accepted" value="1">Accept</button> <button type="submit" name="rejected" value="1">Deny</button></form></body></html>`;
  return { status: 200, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Cache-Control': 'no-cache, private' }, body: html };
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
