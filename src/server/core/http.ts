/**
 * Small Web-standard HTTP helpers: bounded body reading and uniform error responses.
 */
import { toWebResponse, type PlainResponse } from './message.js';

/** Thrown when a body exceeds its limit; adapters throw it from their streams too. */
export class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
    this.name = 'BodyTooLargeError';
  }
}

export type BodyResult = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; response: Response };

/** How long a body may take to arrive when the caller does not say: the config's default `timeoutMs`. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Reads at most `limit` bytes, stopping (and cancelling the stream) as soon as the limit is
 * passed, so an oversized body is never buffered whole; and at most for `timeoutMs`, after which
 * the stream is cancelled and the answer is 408 (a client can trickle a body forever).
 */
export async function readBodyLimited(request: Request, limit: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<BodyResult> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d{1,15}$/.test(declared)) return { ok: false, response: errorResponse(400, 'bad_request') };
    if (Number(declared) > limit) return { ok: false, response: errorResponse(413, 'body_too_large') };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    for (;;) {
      const read = await Promise.race([reader.read(), deadline]);
      if (read === 'timeout') {
        // Not awaited: a stalled source may never settle its cancel.
        reader.cancel().catch(() => {});
        return { ok: false, response: errorResponse(408, 'request_timeout') };
      }
      const { done, value } = read;
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return { ok: false, response: errorResponse(413, 'body_too_large') };
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof BodyTooLargeError || (err as { name?: string } | null)?.name === 'BodyTooLargeError') {
      return { ok: false, response: errorResponse(413, 'body_too_large') };
    }
    return { ok: false, response: errorResponse(400, 'bad_request') };
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

const MESSAGES: Record<string, string> = {
  bad_request: 'The request is malformed.',
  not_found: 'Not found.',
  method_not_allowed: 'Method not allowed.',
  body_too_large: 'The request body is too large.',
  request_timeout: 'The request body did not arrive in time.',
  url_too_long: 'The request URL is too long.',
  unsupported_media_type: 'Unsupported content type.',
  forbidden_origin: 'This origin may not call this endpoint.',
  rate_limited: 'Too many requests; try again later.',
  invalid_json: 'The body is not valid JSON.',
  invalid_email: 'A valid email is required.',
  invalid_fields: 'fields must be an object of strings, numbers or booleans.',
  token_required: 'An identity token is required.',
  invalid_token: 'The identity token is invalid for this email.',
  token_expired: 'The identity token has expired.',
  token_used: 'The identity token was already used.',
  mautic_invalid_client: 'Mautic rejected the proxy\'s API client id or secret.',
  mautic_unauthorized_client: 'The proxy\'s Mautic API client may not use client_credentials.',
  mautic_api_disabled: 'The Mautic API is disabled.',
  mautic_basic_auth_disabled: 'HTTP basic auth is disabled in Mautic.',
  mautic_invalid_credentials: 'Mautic rejected the proxy\'s API credentials.',
  mautic_forbidden: 'The proxy\'s Mautic API user lacks a permission.',
  upstream_timeout: 'Mautic did not answer in time.',
  upstream_error: 'Mautic could not be reached.',
  internal_error: 'Internal error.',
  store_unavailable: 'The proxy\'s shared store is unavailable; try again later.',
  hit_in_flight: 'The same hit is still being delivered; try again shortly.',
  proxy_misconfigured: 'The tracking proxy is not configured on this server.',
};

const utf8 = new TextEncoder();

/**
 * A JSON error body `{ "error": code, "message": text }`, as a plain answer. Messages are fixed
 * strings: nothing from the request or the upstream (no secret, token or cookie) can reach them.
 */
export function errorMessage(status: number, code: string, extraHeaders: Array<[string, string]> = []): PlainResponse {
  return {
    status,
    headers: [
      ['content-type', 'application/json; charset=utf-8'],
      ['cache-control', 'no-store'],
      ['x-content-type-options', 'nosniff'],
      ...extraHeaders,
    ],
    body: utf8.encode(JSON.stringify({ error: code, message: MESSAGES[code] ?? code })),
  };
}

/** `errorMessage` as a Web Response (for the routes that still answer with Web objects). */
export function errorResponse(status: number, code: string, headers?: Record<string, string>): Response {
  return toWebResponse(errorMessage(status, code, headers ? Object.entries(headers) : []));
}

/** 405 with the route's `Allow` list. */
export function methodNotAllowedMessage(allow: readonly string[]): PlainResponse {
  return errorMessage(405, 'method_not_allowed', [['allow', allow.join(', ')]]);
}

export function methodNotAllowed(allow: readonly string[]): Response {
  return toWebResponse(methodNotAllowedMessage(allow));
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | null): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}
