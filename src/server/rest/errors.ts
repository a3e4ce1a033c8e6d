/**
 * One error type for every failure of Mautic's REST API, parsed from each error shape of
 * PROTOCOL §7. Messages come from Mautic's error body, never from our request, so no credential
 * can end up in one.
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
