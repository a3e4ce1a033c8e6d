/**
 * CORS as Mautic's CORSMiddleware does it (PROTOCOL §6). Preflights always get 204; the allow
 * headers appear only for an allowed origin that asks with `Access-Control-Request-Headers`.
 * Other responses carry the origin and credentials only when the request has `X-Requested-With`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CorsMode } from './types.js';

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

  /** Headers for a preflight (`OPTIONS`) answer. */
  preflightHeaders(headers: IncomingHttpHeaders): Record<string, string> {
    const origin = headers.origin;
    const requested = headers['access-control-request-headers'];
    if (!this.isAllowed(origin) || !requested) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': requested,
      'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
      Vary: 'Origin',
    };
  }

  /** Headers for any other answer. */
  responseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
    const origin = headers.origin;
    if (!this.isAllowed(origin) || headers['x-requested-with'] === undefined) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    };
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
