/** Handlers return a `Reply`; the server adds CORS headers and writes it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { StandinRoute } from './types.js';

export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** Everything a handler needs about one request, already read and bounded. */
export interface RequestContext {
  method: string;
  path: string;
  /** Query string including '?', or ''. */
  search: string;
  /** Raw query without '?'. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  bodyText: string;
  route: StandinRoute;
  ip: string;
  /** Epoch ms from the stand-in's clock. */
  nowMs: number;
  /** Scheme and host the client used, e.g. 'http://mautic.test:1234' (for Location headers). */
  origin: string;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string | string[]> = {}): Reply {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}

/**
 * JSON as Symfony's JsonResponse encodes it for the tracking endpoints: `<`, `>`, `&`, `'` and `"`
 * inside strings become `\u003C`-style escapes (docs/protocol.md §4) and `/` becomes `\/` (PHP's
 * json_encode default), so clients must use a JSON parser.
 */
export function phpJsonReply(status: number, value: unknown, headers: Record<string, string | string[]> = {}): Reply {
  const body = JSON.stringify(value).replace(/"(?:[^"\\]|\\.)*"/g, (token) =>
    '"' + token.slice(1, -1).replace(/\\.|[<>&'/]/g, (piece) => HEX_ESCAPES[piece] ?? piece) + '"',
  );
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body };
}

const HEX_ESCAPES: Record<string, string> = {
  '<': '\\u003C',
  '>': '\\u003E',
  '&': '\\u0026',
  "'": '\\u0027',
  '/': '\\/',
  '\\"': '\\u0022',
};

export function textReply(status: number, text: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: text };
}

/** An API controller's error (docs/protocol.md §10.4): `{code, message, details}`, no `type`. */
export function errorReply(status: number, message: string, extra: { details?: unknown } = {}): Reply {
  return jsonReply(status, { errors: [{ code: status, message, details: extra.details ?? [] }] });
}

/** Mautic's answer for a path no route matches: `{message, code, type: null}`, no `details`. */
export function routeNotFoundReply(path: string): Reply {
  return jsonReply(404, { errors: [{ message: `Requested URL not found: ${path}`, code: 404, type: null }] });
}

/** Mautic's generic 500 (an uncaught error): the same shape as an unknown route. */
export function serverErrorReply(): Reply {
  return jsonReply(500, {
    errors: [{ message: 'Looks like I encountered an error (error #500). If I do it again, please report me to the system administrator!', code: 500, type: null }],
  });
}

/** An authentication or OAuth error: `{message, code, type}`, no `details` (docs/protocol.md §10.4–§10.6). */
export function oauthErrorReply(status: number, type: string, message: string): Reply {
  return jsonReply(status, { errors: [{ message, code: status, type }] });
}

/** The 403 every `/api` and `/oauth` request gets while Mautic's API is switched off. */
export function apiDisabledReply(): Reply {
  return oauthErrorReply(403, 'api_disabled', "API disabled. You need to enable the API in the API settings of Mautic's Configuration.");
}
