/**
 * Classifies a request path into a route class and matches REST paths with `{param}` segments.
 */
import { MAUTIC_PATHS } from '../../protocol/routes.js';
import type { StandinRoute } from './types.js';

export function classifyRoute(method: string, path: string): StandinRoute {
  if (method === 'OPTIONS') return 'preflight';
  if (path === MAUTIC_PATHS.event) return 'event';
  if (path === MAUTIC_PATHS.pixel) return 'pixel';
  if (path === MAUTIC_PATHS.contactIds) return 'ids';
  if (path === MAUTIC_PATHS.script) return 'script';
  if (/^\/dwc\/[^/]+$/.test(path)) return 'dwc';
  if (path === '/form/submit') return 'form';
  if (path === '/api' || path.startsWith('/api/') || path.startsWith('/oauth/')) return 'api';
  return 'other';
}

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
}

interface Entry<H> {
  method: string;
  segments: string[];
  handler: H;
}

/** A tiny method + path table: `/api/contacts/{id}/edit` matches `/api/contacts/5/edit`. */
export class Router<H> {
  private readonly entries: Entry<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.entries.push({ method, segments: pattern.split('/'), handler });
    return this;
  }

  /** `'method-not-allowed'` when the path exists under another method. */
  match(method: string, path: string): RouteMatch<H> | 'method-not-allowed' | undefined {
    const segments = path.split('/');
    let pathMatched = false;
    for (const entry of this.entries) {
      const params = matchSegments(entry.segments, segments);
      if (!params) continue;
      if (entry.method === method) return { handler: entry.handler, params };
      pathMatched = true;
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    const expected = pattern[i] ?? '';
    const value = actual[i] ?? '';
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (value === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        return undefined;
      }
      params[expected.slice(1, -1)] = decoded;
    } else if (expected !== value) {
      return undefined;
    }
  }
  return params;
}
