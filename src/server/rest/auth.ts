/**
 * Auth providers for Mautic's REST API: OAuth2 `client_credentials`, OAuth2 `authorization_code`
 * with rotating refresh tokens, and HTTP Basic. (OAuth1a is gone since Mautic 4.0.)
 *
 * Mautic 5.1's token endpoint (FOSOAuthServerBundle): access tokens live 3600 s and refresh
 * tokens 14 days by default (Configuration → API Settings); a refresh answers a new refresh token
 * and deletes the one used; an authorization code works once, within 30 s.
 */
import { REST_PATHS } from '../../protocol/rest.js';
import { base64Utf8 } from '../core/crypto.js';
import { MauticApiError, MauticInvalidGrantError, MauticNotAuthorizedError } from './errors.js';
import { errorOfAnswer, exchange, jsonOf } from './http-call.js';
import { MemoryTokenStore, type OAuthTokens, type TokenStore } from './token-store.js';

export interface AuthProvider {
  /** The `Authorization` header value for the next request. */
  authorization(): Promise<string>;
  /** Called after a 401/invalid_grant: forget cached credentials so the next call re-fetches. */
  invalidate(failed: string): void;
  /** True when `invalidate` + retry can help (a cached token may be stale). */
  readonly refreshable: boolean;
  /** Values to redact from logs. */
  readonly secrets: readonly string[];
}

/**
 * HTTP Basic (Mautic: off by default, enable "API basic auth").
 *
 * @example new BasicAuth({ username: 'api', password: process.env.MAUTIC_PASSWORD! })
 */
export class BasicAuth implements AuthProvider {
  readonly refreshable = false;
  readonly secrets: readonly string[];
  private readonly header: string;

  constructor(options: { username: string; password: string }) {
    this.header = `Basic ${base64Utf8(`${options.username}:${options.password}`)}`;
    this.secrets = [options.password, this.header.slice(6)];
  }

  authorization(): Promise<string> {
    return Promise.resolve(this.header);
  }

  invalidate(): void {}
}

export interface OAuth2Options {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  /** Renew this many seconds before expiry. Default 60. */
  renewBeforeSeconds?: number;
  /** Per token request. Default 10000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

export interface OAuth2ClientCredentialsOptions extends OAuth2Options {
  /** Where the access token is cached. Default: this process's memory. A shared store lets instances share one token. */
  tokens?: TokenStore;
}

export interface OAuth2AuthorizationCodeOptions extends OAuth2Options {
  /** Holds the tokens `npx mautic-tracker authorize` stored, and each rotated refresh token. Required. */
  tokens: TokenStore;
  /**
   * Refresh token lifetime assumed when saving, seconds (Mautic's "refresh token lifetime",
   * default 14 days). Only used to let a key-value store drop dead tokens.
   */
  refreshTokenLifetimeSeconds?: number;
}

/** Mautic's default refresh token lifetime: 14 days. */
export const DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS = 14 * 86_400;

type TokenParams = Record<string, string>;

/** One token-endpoint request (`POST /oauth/v2/token`, form body). Throws the error class of its failure. */
export async function requestTokens(
  options: OAuth2Options & { refreshTokenLifetimeSeconds?: number; signal?: AbortSignal },
  params: TokenParams,
): Promise<OAuthTokens> {
  const path = REST_PATHS.token;
  const where = { method: 'POST', path };
  const now = options.now ?? Date.now;
  const body = new URLSearchParams({ ...params, client_id: options.clientId, client_secret: options.clientSecret });
  const { response, text } = await exchange({
    fetch: options.fetch ?? globalThis.fetch,
    url: options.baseUrl.replace(/\/+$/, '') + path,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      redirect: 'error',
    },
    timeoutMs: options.timeoutMs ?? 10_000,
    signal: options.signal,
    where,
  });
  const json = jsonOf(text);
  const failure = errorOfAnswer(response, json, where);
  if (failure) throw failure;
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  if (typeof record.access_token !== 'string' || record.access_token === '') {
    throw new MauticApiError({ status: response.status, type: 'invalid_response', messages: ['no access_token in the answer'], ...where });
  }
  const expiresIn = typeof record.expires_in === 'number' && record.expires_in > 0 ? record.expires_in : 3600;
  const issuedAt = now();
  const refreshToken = typeof record.refresh_token === 'string' && record.refresh_token !== '' ? record.refresh_token : null;
  return {
    accessToken: record.access_token,
    accessTokenExpiresAt: issuedAt + expiresIn * 1000,
    refreshToken,
    refreshTokenExpiresAt: refreshToken ? issuedAt + (options.refreshTokenLifetimeSeconds ?? DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS) * 1000 : null,
  };
}

/**
 * The URL a Mautic user opens to authorise this client (`GET /oauth/v2/authorize`). Mautic asks
 * them to log in, then to accept; it then redirects to `redirectUri?code=…&state=…`.
 * `redirectUri` must start with one of the client's registered redirect URIs.
 */
export function authorizeUrl(options: { baseUrl: string; clientId: string; redirectUri: string; state: string }): string {
  const query = new URLSearchParams({
    client_id: options.clientId,
    grant_type: 'authorization_code',
    redirect_uri: options.redirectUri,
    response_type: 'code',
    state: options.state,
  });
  return `${options.baseUrl.replace(/\/+$/, '')}/oauth/v2/authorize?${query.toString()}`;
}

/** Trades an authorization code for tokens (`grant_type=authorization_code`). The code works once. */
export function exchangeAuthorizationCode(
  options: OAuth2Options & { code: string; redirectUri: string; refreshTokenLifetimeSeconds?: number },
): Promise<OAuthTokens> {
  return requestTokens(options, { grant_type: 'authorization_code', code: options.code, redirect_uri: options.redirectUri });
}

/**
 * What both OAuth2 providers share: a token cached in memory and in a `TokenStore`, renewed
 * shortly before it expires, by one request for all concurrent callers.
 */
abstract class CachedTokenAuth implements AuthProvider {
  readonly refreshable = true;
  /** Number of token-endpoint requests made so far (metrics, tests). */
  tokenRequests = 0;
  protected current: OAuthTokens | null = null;
  /** An access token Mautic refused: never taken from the store again. */
  protected rejected: string | null = null;
  private inflight: Promise<OAuthTokens> | null = null;
  private readonly issued: string[] = [];
  protected readonly now: () => number;
  protected readonly store: TokenStore;

  constructor(
    protected readonly options: OAuth2Options,
    store: TokenStore,
  ) {
    this.now = options.now ?? Date.now;
    this.store = store;
  }

  get secrets(): readonly string[] {
    return [this.options.clientSecret, ...this.issued];
  }

  async authorization(): Promise<string> {
    if (this.current && this.usable(this.current)) return `Bearer ${this.current.accessToken}`;
    if (!this.inflight) {
      this.inflight = this.renew().finally(() => {
        this.inflight = null;
      });
    }
    const tokens = await this.inflight;
    return `Bearer ${tokens.accessToken}`;
  }

  invalidate(failed: string): void {
    // Only drop the token that failed: a concurrent caller may already hold a fresh one.
    if (this.current && failed === `Bearer ${this.current.accessToken}`) {
      this.rejected = this.current.accessToken;
      this.current = null;
    }
  }

  /** Not expired (with the renewal margin) and not refused by Mautic. */
  protected usable(tokens: OAuthTokens): boolean {
    const lifetime = Math.max(0, tokens.accessTokenExpiresAt - this.now());
    const margin = Math.min((this.options.renewBeforeSeconds ?? 60) * 1000, lifetime / 2);
    return tokens.accessToken !== this.rejected && this.now() < tokens.accessTokenExpiresAt - margin;
  }

  protected remember(tokens: OAuthTokens): OAuthTokens {
    this.current = tokens;
    for (const secret of [tokens.accessToken, tokens.refreshToken]) {
      if (secret && !this.issued.includes(secret)) this.issued.push(secret);
    }
    while (this.issued.length > 16) this.issued.shift();
    return tokens;
  }

  protected abstract renew(): Promise<OAuthTokens>;
}

/**
 * OAuth2 client_credentials (Mautic ≥ 4; only for API clients an administrator created). The
 * token is cached until shortly before it expires; concurrent callers share one token request.
 *
 * @example new OAuth2ClientCredentials({ baseUrl, clientId, clientSecret })
 */
export class OAuth2ClientCredentials extends CachedTokenAuth {
  constructor(options: OAuth2ClientCredentialsOptions) {
    super(options, options.tokens ?? new MemoryTokenStore());
  }

  protected async renew(): Promise<OAuthTokens> {
    const stored = await this.store.load();
    if (stored && this.usable(stored)) return this.remember(stored);
    this.tokenRequests += 1;
    const tokens = await requestTokens(this.options, { grant_type: 'client_credentials' });
    await this.store.save(tokens);
    return this.remember(tokens);
  }
}

/** How often an instance waiting for another's refresh looks for its result. */
const LOCK_POLL_MS = 100;

/**
 * OAuth2 authorization code with refresh tokens: what every Mautic API client allows, also those
 * made by a non-administrator (which get no `client_credentials`). Authorise once with
 * `npx mautic-tracker authorize` (or `authorizeUrl` + `exchangeAuthorizationCode`); the store
 * then holds the tokens. Each refresh rotates the refresh token and saves the new one before the
 * access token is used, so a restart or another instance carries on with it. One refresh for all
 * concurrent callers of this process, and with a store that locks, of every process.
 *
 * @example new OAuth2AuthorizationCode({ baseUrl, clientId, clientSecret, tokens: new FileTokenStore('.mautic-tokens.json') })
 */
export class OAuth2AuthorizationCode extends CachedTokenAuth {
  private readonly lifetime: number;

  constructor(options: OAuth2AuthorizationCodeOptions) {
    if (!options.tokens) throw new TypeError('OAuth2AuthorizationCode needs a token store (tokens)');
    super(options, options.tokens);
    this.lifetime = options.refreshTokenLifetimeSeconds ?? DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS;
  }

  protected async renew(): Promise<OAuthTokens> {
    const stored = await this.store.load();
    if (stored && this.usable(stored)) return this.remember(stored);
    if (!stored?.refreshToken) throw this.notAuthorized();
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const locked = this.store.lock ? await this.store.lock(timeoutMs * 2) : true;
    try {
      if (!locked) {
        // Another process is refreshing this very token: its result is ours too.
        const theirs = await this.waitForOther(stored.refreshToken, timeoutMs * 2);
        if (theirs) return this.remember(theirs);
      }
      return this.remember(await this.refresh(stored.refreshToken));
    } finally {
      if (locked) await this.store.unlock?.();
    }
  }

  private async refresh(refreshToken: string): Promise<OAuthTokens> {
    this.tokenRequests += 1;
    let tokens: OAuthTokens;
    try {
      tokens = await requestTokens({ ...this.options, refreshTokenLifetimeSeconds: this.lifetime }, { grant_type: 'refresh_token', refresh_token: refreshToken });
    } catch (err) {
      if (!(err instanceof MauticInvalidGrantError)) throw err;
      // Refused: perhaps another process rotated it a moment ago (a store without a lock).
      const latest = await this.store.load();
      if (latest && latest.refreshToken !== refreshToken && this.usable(latest)) return latest;
      throw err;
    }
    // Saved before use: the old refresh token is already dead on Mautic's side. Held in memory
    // first, so this process carries on even if the store cannot be written (the call still fails).
    this.remember(tokens);
    await this.store.save(tokens);
    return tokens;
  }

  private async waitForOther(oldRefreshToken: string, maxMs: number): Promise<OAuthTokens | null> {
    // Real time, not the token clock: this bounds a wait, whatever `now` says about expiry.
    const until = Date.now() + maxMs;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const latest = await this.store.load();
      if (latest && latest.refreshToken !== oldRefreshToken && this.usable(latest)) return latest;
    }
    return null;
  }

  private notAuthorized(): MauticNotAuthorizedError {
    return new MauticNotAuthorizedError({
      status: 0,
      type: 'not_authorized',
      messages: ['no OAuth2 tokens stored: run `npx mautic-tracker authorize` once'],
      method: 'POST',
      path: REST_PATHS.token,
    });
  }
}
