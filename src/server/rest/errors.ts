/**
 * Errors of Mautic's REST API, parsed from each error shape of docs/protocol.md §7 and the recorded 5.1
 * answers. One class per failure a caller handles differently (in the style of ky's `HTTPError`
 * / `TimeoutError`), all extending `MauticApiError`, so `instanceof MauticApiError` still catches
 * every one. Messages come from Mautic's error body, never from our request, so no credential can
 * end up in one.
 */
import type { MauticErrorEntry } from '../../protocol/rest.js';

export interface MauticApiErrorInit {
  status: number;
  type: string | null;
  messages: string[];
  method: string;
  path: string;
  /** Unix ms when the rate limit resets (from `X-RateLimit-Reset`), for 429. */
  rateLimitResetAt?: number | null;
  /** Field → messages, from the entry's `details` (422 `email: This field must be unique.`). */
  details?: Record<string, string[]>;
  /** `Mautic-Version` of the answer, when Mautic sent one (API controllers only). */
  mauticVersion?: string | null;
}

/**
 * A failed Mautic API call. `status` is the HTTP status (0 for timeout/network), `type` Mautic's
 * error type (`invalid_grant`, `invalid_client`, …) or our `timeout`/`network`/`invalid_response`.
 */
export class MauticApiError extends Error {
  readonly status: number;
  readonly type: string | null;
  readonly messages: string[];
  readonly method: string;
  readonly path: string;
  readonly rateLimitResetAt: number | null;
  /** Field → Mautic's messages for it; `{}` when the answer named no field. */
  readonly details: Record<string, string[]>;
  readonly mauticVersion: string | null;

  constructor(init: MauticApiErrorInit) {
    const detail = init.messages.length > 0 ? init.messages.join('; ') : `HTTP ${init.status}`;
    super(`Mautic API ${init.method} ${init.path} failed (${init.status}${init.type ? ' ' + init.type : ''}): ${detail}`);
    this.name = 'MauticApiError';
    this.status = init.status;
    this.type = init.type;
    this.messages = init.messages;
    this.method = init.method;
    this.path = init.path;
    this.rateLimitResetAt = init.rateLimitResetAt ?? null;
    this.details = init.details ?? {};
    this.mauticVersion = init.mauticVersion ?? null;
  }
}

/** No answer in time (the call's own timeout, or the caller's deadline). */
export class MauticTimeoutError extends MauticApiError {
  constructor(init: Omit<MauticApiErrorInit, 'status' | 'type' | 'messages'>) {
    super({ ...init, status: 0, type: 'timeout', messages: [] });
    this.name = 'MauticTimeoutError';
  }
}

/** Mautic could not be reached (DNS, refused or reset connection, TLS). */
export class MauticNetworkError extends MauticApiError {
  constructor(init: Omit<MauticApiErrorInit, 'status' | 'type' | 'messages'>) {
    super({ ...init, status: 0, type: 'network', messages: [] });
    this.name = 'MauticNetworkError';
  }
}

/** 404: the contact, device, form… does not exist (or the route does not). */
export class MauticNotFoundError extends MauticApiError {
  override name = 'MauticNotFoundError';
}

/**
 * 400/422 validation, e.g. 422 `email: This field must be unique.` with
 * `details: { email: ['This field must be unique.'] }`, or 400 `Invalid operator` (no field).
 */
export class MauticValidationError extends MauticApiError {
  override name = 'MauticValidationError';
}

/**
 * 429 from Mautic's API rate limiter (off by default, removed in Mautic 7). `rateLimitResetAt`
 * is `X-RateLimit-Reset` in Unix ms (Mautic sends no `Retry-After`).
 */
export class MauticRateLimitError extends MauticApiError {
  override name = 'MauticRateLimitError';
  /** Milliseconds until the limit resets (0 if unknown or past). */
  retryAfterMs(now = Date.now()): number {
    return this.rateLimitResetAt === null ? 0 : Math.max(0, this.rateLimitResetAt - now);
  }
}

/** 5xx: Mautic failed (a PHP error, e.g. 500 for a non-numeric points delta). */
export class MauticServerError extends MauticApiError {
  override name = 'MauticServerError';
}

/**
 * Mautic refused the proxy's credentials or API access: a configuration problem on the site's
 * side, never the visitor's. `reason` names which, for logs and error codes.
 */
export abstract class MauticAuthError extends MauticApiError {
  abstract readonly reason: MauticAuthFailure;
}

export type MauticAuthFailure =
  | 'invalid_client'
  | 'unauthorized_client'
  | 'invalid_grant'
  | 'not_authorized'
  | 'api_disabled'
  | 'basic_auth_disabled'
  | 'missing_credentials'
  | 'invalid_credentials'
  | 'token_invalid'
  | 'token_expired'
  | 'forbidden';

/** 400 `invalid_client` from `/oauth/v2/token`: unknown client id or wrong secret. */
export class MauticInvalidClientError extends MauticAuthError {
  override name = 'MauticInvalidClientError';
  readonly reason = 'invalid_client' as const;
}

/** 400 `unauthorized_client`: the API client may not use `client_credentials` (made by a non-admin). */
export class MauticUnauthorizedClientError extends MauticAuthError {
  override name = 'MauticUnauthorizedClientError';
  readonly reason = 'unauthorized_client' as const;
}

/**
 * 400 `invalid_grant` from `/oauth/v2/token`: the authorization code or refresh token was
 * refused — unknown, already used (refresh tokens rotate: each works once), expired (14 days by
 * default) or revoked. Nothing but a new authorisation helps: `npx mautic-tracker authorize`.
 */
export class MauticInvalidGrantError extends MauticAuthError {
  override name = 'MauticInvalidGrantError';
  readonly reason = 'invalid_grant' as const;
}

/** No tokens in the token store yet: the authorization-code flow was never completed (`npx mautic-tracker authorize`). */
export class MauticNotAuthorizedError extends MauticAuthError {
  override name = 'MauticNotAuthorizedError';
  readonly reason = 'not_authorized' as const;
}

/** 403 `api_disabled` on `/api` and `/oauth`: the API is off in Mautic's configuration. */
export class MauticApiDisabledError extends MauticAuthError {
  override name = 'MauticApiDisabledError';
  readonly reason = 'api_disabled' as const;
}

/** 403 "Basic Auth disabled": HTTP Basic is off in Mautic's API settings. */
export class MauticBasicAuthDisabledError extends MauticAuthError {
  override name = 'MauticBasicAuthDisabledError';
  readonly reason = 'basic_auth_disabled' as const;
}

/** 401 `access_denied` "API authorization denied.": the request carried no credentials Mautic reads. */
export class MauticMissingCredentialsError extends MauticAuthError {
  override name = 'MauticMissingCredentialsError';
  readonly reason = 'missing_credentials' as const;
}

/** 401 `access_denied` "Authorization denied, invalid credentials.": wrong Basic username or password. */
export class MauticInvalidCredentialsError extends MauticAuthError {
  override name = 'MauticInvalidCredentialsError';
  readonly reason = 'invalid_credentials' as const;
}

/** 401 `invalid_grant` "The access token provided is invalid." that a fresh token did not cure (revoked, another Mautic). */
export class MauticTokenInvalidError extends MauticAuthError {
  override name = 'MauticTokenInvalidError';
  readonly reason = 'token_invalid' as const;
}

/** 401 `invalid_grant` "The access token provided has expired." that a fresh token did not cure (clocks apart). */
export class MauticTokenExpiredError extends MauticAuthError {
  override name = 'MauticTokenExpiredError';
  readonly reason = 'token_expired' as const;
}

/** 403 for anything else: the API user's role lacks a permission the call needs. */
export class MauticForbiddenError extends MauticAuthError {
  override name = 'MauticForbiddenError';
  readonly reason = 'forbidden' as const;
}

/**
 * The error class for one failed call, chosen from status, type and message as the recorded 5.1
 * answers show them (`oauth_token_*`, `api_disabled_*`, `api_basic_*`).
 */
export function classifyApiError(init: MauticApiErrorInit): MauticApiError {
  const { status, type } = init;
  const said = (pattern: RegExp): boolean => init.messages.some((m) => pattern.test(m));
  if (type === 'invalid_client') return new MauticInvalidClientError(init);
  if (type === 'unauthorized_client') return new MauticUnauthorizedClientError(init);
  if (type === 'api_disabled') return new MauticApiDisabledError(init);
  // The token endpoint refusing a code or refresh token (400), versus /api refusing a bearer (401).
  if (type === 'invalid_grant' && status === 400) return new MauticInvalidGrantError(init);
  if (status === 403 && said(/basic auth/i)) return new MauticBasicAuthDisabledError(init);
  if (status === 401) {
    if (said(/has expired/i)) return new MauticTokenExpiredError(init);
    if (type === 'invalid_grant' || said(/access token/i)) return new MauticTokenInvalidError(init);
    if (said(/^API authorization denied/i)) return new MauticMissingCredentialsError(init);
    return new MauticInvalidCredentialsError(init);
  }
  if (status === 403) return new MauticForbiddenError(init);
  if (status === 404) return new MauticNotFoundError(init);
  if (status === 400 || status === 422) return new MauticValidationError(init);
  if (status === 429) return new MauticRateLimitError(init);
  if (status >= 500) return new MauticServerError(init);
  return new MauticApiError(init);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Messages are cut so a hostile upstream cannot flood logs. */
function clip(text: string): string {
  return text.length > 300 ? text.slice(0, 300) + '…' : text;
}

export interface ParsedErrorBody {
  type: string | null;
  messages: string[];
  code: number | null;
  /** Field → messages from the entries' `details` objects. */
  details: Record<string, string[]>;
}

/** `details: {"email": ["This field must be unique."]}`; Mautic sends `[]` when there are none. */
function detailsOf(entries: Partial<MauticErrorEntry>[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of entries) {
    if (!isRecord(entry.details)) continue;
    for (const [field, value] of Object.entries(entry.details).slice(0, 50)) {
      const list = (Array.isArray(value) ? value : [value]).filter((m): m is string => typeof m === 'string').map(clip);
      if (list.length > 0) (out[field.slice(0, 64)] ??= []).push(...list.slice(0, 10));
    }
  }
  return out;
}

/**
 * Reads any of Mautic's error shapes; null when `body` carries no error (a 2xx with `errors`
 * is therefore detectable by a non-null result).
 */
export function parseErrorBody(body: unknown): ParsedErrorBody | null {
  if (!isRecord(body)) return null;
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const entries = body.errors.filter(isRecord) as Partial<MauticErrorEntry>[];
    return {
      type: entries.map((e) => e.type).find((t): t is string => typeof t === 'string' && t !== '') ?? null,
      messages: entries.map((e) => (typeof e.message === 'string' ? clip(e.message) : '')).filter(Boolean),
      code: entries.map((e) => e.code).find((c): c is number => typeof c === 'number') ?? null,
      details: detailsOf(entries),
    };
  }
  // Some Mautic validation errors come keyed by field, as strings. (A batch answer's `errors` is
  // keyed by item index, with entry objects: per-item outcomes of a successful call, not an error.)
  const keyed = isRecord(body.errors) ? Object.entries(body.errors).filter((e): e is [string, string] => typeof e[1] === 'string') : [];
  if (keyed.length > 0) {
    const details: Record<string, string[]> = {};
    for (const [field, m] of keyed.slice(0, 50)) details[field.slice(0, 64)] = [clip(m)];
    return { type: null, messages: keyed.map(([, m]) => clip(m)), code: null, details };
  }
  if (typeof body.error === 'string') {
    return {
      type: body.error,
      messages: typeof body.error_description === 'string' ? [clip(body.error_description)] : [],
      code: null,
      details: {},
    };
  }
  if (isRecord(body.error)) {
    const e = body.error;
    return {
      type: typeof e.type === 'string' ? e.type : null,
      messages: typeof e.message === 'string' ? [clip(e.message)] : [],
      code: typeof e.code === 'number' ? e.code : null,
      details: {},
    };
  }
  return null;
}

/** Parses text that should be JSON (Mautic may label it text/html); null if it is not. */
export function parseJsonLoose(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
