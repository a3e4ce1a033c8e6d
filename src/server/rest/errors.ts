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

/** 400/422 validation, e.g. 422 `email: This field must be unique.` */
export class MauticValidationError extends MauticApiError {
  override name = 'MauticValidationError';
}

/** 429 from Mautic's API rate limiter (off by default). */
export class MauticRateLimitError extends MauticApiError {
  override name = 'MauticRateLimitError';
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
  | 'api_disabled'
  | 'basic_auth_disabled'
  | 'invalid_credentials'
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

/** 401 that a token refresh did not cure: wrong Basic password, or tokens Mautic keeps refusing. */
export class MauticInvalidCredentialsError extends MauticAuthError {
  override name = 'MauticInvalidCredentialsError';
  readonly reason = 'invalid_credentials' as const;
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
  if (type === 'invalid_client') return new MauticInvalidClientError(init);
  if (type === 'unauthorized_client') return new MauticUnauthorizedClientError(init);
  if (type === 'api_disabled') return new MauticApiDisabledError(init);
  if (status === 403 && init.messages.some((m) => /basic auth/i.test(m))) return new MauticBasicAuthDisabledError(init);
  if (status === 401) return new MauticInvalidCredentialsError(init);
  if (status === 403) return new MauticForbiddenError(init);
  if (status === 404) return new MauticNotFoundError(init);
  if (status === 400 || status === 422) return new MauticValidationError(init);
  if (status === 429) return new MauticRateLimitError(init);
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
    };
  }
  if (isRecord(body.errors) && Object.keys(body.errors).length > 0) {
    // Some Mautic validation errors come keyed by field.
    return { type: null, messages: Object.values(body.errors).map((m) => clip(String(m))), code: null };
  }
  if (typeof body.error === 'string') {
    return {
      type: body.error,
      messages: typeof body.error_description === 'string' ? [clip(body.error_description)] : [],
      code: null,
    };
  }
  if (isRecord(body.error)) {
    const e = body.error;
    return {
      type: typeof e.type === 'string' ? e.type : null,
      messages: typeof e.message === 'string' ? [clip(e.message)] : [],
      code: typeof e.code === 'number' ? e.code : null,
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
