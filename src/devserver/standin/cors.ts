/**
 * CORS as Mautic 5.1's CORSMiddleware answers it (docs/protocol.md §10.11; options_preflight_* and
 * every track_event_* answer):
 * - a preflight is always 204 `text/html`; its CORS headers appear only when the origin is allowed
 *   and the browser sent `Access-Control-Request-Headers`, and they are fixed lists (the requested
 *   headers are not echoed, PATCH is not offered);
 * - any other request carrying `X-Requested-With` gets the same headers, with
 *   `Access-Control-Allow-Origin` set to the origin when it is allowed and to the EMPTY string when
 *   it is not (or when there is no Origin). A browser then refuses to let the page read the
 *   answer, but the hit itself was handled: a refused origin is still tracked.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CorsMode } from './types.js';

const FIXED_HEADERS = {
  'Access-Control-Allow-Headers': 'Origin, X-Requested-With, Content-Type, Authorization',
  'Access-Control-Allow-Methods': 'PUT, GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Credentials': 'true',
  'Access-Control-Max-Age': '36000',
} as const;

/** Headers of every preflight answer, whatever the origin. */
export const PREFLIGHT_REPLY_HEADERS = {
  'Content-type': 'text/html; charset=UTF-8',
  'Cache-Control': 'no-cache, private',
} as const;

export class CorsPolicy {
  private readonly allowed: Set<string> | 'any';

  constructor(mode: CorsMode) {
    if (mode === 'any') this.allowed = 'any';
    else if (mode === 'restrictive') this.allowed = new Set();
    else this.allowed = new Set(mode.map(normalizeOrigin));
  }

  isAllowed(origin: string | undefined): origin is string {
    if (!origin) return false;
    return this.allowed === 'any' || this.allowed.has(normalizeOrigin(origin));
  }

  /** CORS headers for a preflight (`OPTIONS`) answer. */
  preflightHeaders(headers: IncomingHttpHeaders): Record<string, string> {
    const origin = headers.origin;
    if (!this.isAllowed(origin) || headers['access-control-request-headers'] === undefined) return {};
    return { 'Access-Control-Allow-Origin': origin, ...FIXED_HEADERS };
  }

  /** CORS headers for any other answer. */
  responseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
    if (headers['x-requested-with'] === undefined) return {};
    const origin = headers.origin;
    return { 'Access-Control-Allow-Origin': this.isAllowed(origin) ? origin : '', ...FIXED_HEADERS };
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
