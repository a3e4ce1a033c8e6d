/**
 * Auth providers for Mautic's REST API: OAuth2 client_credentials and HTTP Basic.
 */
import { REST_PATHS, type OAuthTokenResponse } from '../../protocol/rest.js';
import { base64Utf8 } from '../core/crypto.js';
import { classifyApiError, MauticNetworkError, MauticTimeoutError, parseErrorBody, parseJsonLoose } from './errors.js';

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
  timeoutMs?: number;
  now?: () => number;
}

/**
 * OAuth2 client_credentials (Mautic ≥ 4). The token is cached until shortly before it expires;
 * concurrent callers share one in-flight token request.
 *
 * @example new OAuth2ClientCredentials({ baseUrl, clientId, clientSecret })
 */
export class OAuth2ClientCredentials implements AuthProvider {
  readonly refreshable = true;
  private token: { value: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  private readonly issued: string[] = [];
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: OAuth2Options) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  get secrets(): readonly string[] {
    return [this.options.clientSecret, ...this.issued];
  }

  /** Number of token requests made so far (metrics, tests). */
  tokenRequests = 0;

  authorization(): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt) return Promise.resolve(`Bearer ${this.token.value}`);
    if (!this.inflight) {
      this.inflight = this.fetchToken().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight.then((t) => `Bearer ${t}`);
  }

  invalidate(failed: string): void {
    // Only drop the token that failed: a concurrent caller may already hold a fresh one.
    if (this.token && failed === `Bearer ${this.token.value}`) this.token = null;
  }

  private async fetchToken(): Promise<string> {
    this.tokenRequests += 1;
    const path = REST_PATHS.token;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 10_000);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.options.baseUrl + path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        signal: controller.signal,
        redirect: 'error',
      });
      text = await res.text();
    } catch {
      const where = { method: 'POST', path };
      throw controller.signal.aborted ? new MauticTimeoutError(where) : new MauticNetworkError(where);
    } finally {
      clearTimeout(timer);
    }
    const json = parseJsonLoose(text) as Partial<OAuthTokenResponse> | null;
    const error = parseErrorBody(json);
    if (!res.ok || error || !json || typeof json.access_token !== 'string' || json.access_token === '') {
      throw classifyApiError({
        status: res.status,
        type: error?.type ?? (res.ok ? 'invalid_response' : null),
        messages: error?.messages ?? [],
        method: 'POST',
        path,
      });
    }
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
    const margin = Math.min(this.options.renewBeforeSeconds ?? 60, expiresIn / 2);
    this.token = { value: json.access_token, expiresAt: this.now() + (expiresIn - margin) * 1000 };
    this.issued.push(json.access_token);
    if (this.issued.length > 8) this.issued.shift();
    return json.access_token;
  }
}
