/**
 * Shapes of Mautic's REST API (docs/protocol.md §7) that the proxy's client and the stand-in share.
 * What the REST client calls; Mautic's API is far larger.
 */

/** Every API response carries this header. */
export const MAUTIC_VERSION_HEADER = 'Mautic-Version';

export const REST_PATHS = {
  token: '/oauth/v2/token',
  contactNew: '/api/contacts/new',
  contactsBatchNew: '/api/contacts/batch/new',
  /** `/api/contacts/{id}`, `/api/contacts/{id}/edit`, … are built by the callers. */
  contacts: '/api/contacts',
  segments: '/api/segments',
} as const;

/** Most batch endpoints accept at most this many items. */
export const BATCH_LIMIT = 200;

/** `POST /oauth/v2/token` success. Mautic issues no refresh token for client_credentials. */
export interface OAuthTokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'bearer' | 'Bearer';
  scope: string | null;
  refresh_token?: string;
}

/** One entry of Mautic ≥ 3's error list. */
export interface MauticErrorEntry {
  code: number;
  message: string;
  details?: unknown;
  type?: string | null;
}

/** A contact as the API returns it, reduced to what we read. */
export interface MauticContact {
  id: number;
  /** Core fields flattened by alias (`email`, `firstname`, …). */
  fields: { all: Record<string, unknown> } & Record<string, unknown>;
  tags?: Array<{ id?: number; tag: string }>;
  [key: string]: unknown;
}

export interface ContactEnvelope {
  contact: MauticContact;
}

/** Rate limiter headers (§7): `X-RateLimit-Reset` is Unix time in seconds; no `Retry-After`. */
export const RATE_LIMIT_HEADERS = {
  limit: 'X-RateLimit-Limit',
  remaining: 'X-RateLimit-Remaining',
  reset: 'X-RateLimit-Reset',
} as const;
