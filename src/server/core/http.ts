/**
 * Small HTTP helpers of the core: the uniform JSON error response and a request's media type.
 */
import type { PlainResponse } from './plain-message.js';

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
  mautic_missing_credentials: 'Mautic saw no API credentials from the proxy.',
  mautic_invalid_grant: 'Mautic refused the proxy\'s refresh token; authorize the proxy again.',
  mautic_not_authorized: 'The proxy has not been authorized with Mautic yet.',
  mautic_token_invalid: 'Mautic refused the proxy\'s access token.',
  mautic_token_expired: 'Mautic considers the proxy\'s access token expired.',
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

/** 405 with the route's `Allow` list. */
export function methodNotAllowedMessage(allow: readonly string[]): PlainResponse {
  return errorMessage(405, 'method_not_allowed', [['allow', allow.join(', ')]]);
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(header: string | null): string {
  if (header === null) return '';
  const semi = header.indexOf(';');
  // trim and toLowerCase give back the same string when there is nothing to change (most headers).
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

const BODY_READ_CODES = { 400: 'bad_request', 408: 'request_timeout', 413: 'body_too_large' } as const;

/** The answer to a body that could not be read (`BodyRead` failure). */
export function bodyReadFailureMessage(status: 400 | 408 | 413): PlainResponse {
  return errorMessage(status, BODY_READ_CODES[status]);
}

/** A `Host` value as a browser sends it: a DNS name or an IP literal (IPv6 in brackets), with an optional port. */
export const HOST_HEADER = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;
