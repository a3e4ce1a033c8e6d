/**
 * The request sent to Mautic for a relayed hit: headers built from an allowlist (never copied),
 * one `X-Forwarded-For`, one fixed upstream, bounded time, no retry.
 */
import { DEVICE_ID_PATTERN, MAUTIC_COOKIES, REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../../protocol/wire.js';
import { parseCookieHeader } from './cookies.js';

/**
 * Client IP headers Mautic reads (PROTOCOL §6). Listed for documentation and tests: the relay
 * builds upstream headers from an allowlist, so none of these can pass anyway.
 */
export const CLIENT_IP_HEADERS = [
  'client-ip',
  'x-forwarded-for',
  'x-forwarded',
  'x-cluster-client-ip',
  'forwarded-for',
  'forwarded',
  'x-real-ip',
] as const;

/** Headers copied from the visitor's request, when present and sane. */
const PASSED_HEADERS = ['user-agent', 'accept-language', 'accept'] as const;

const IP_PATTERN = /^[0-9A-Fa-f.:]{2,45}$/;

/**
 * Builds the upstream headers for a relayed request: a plain record (a valid `HeadersInit`),
 * since a `Headers` object would be validated, sorted and copied again by the transport.
 * Every value comes from the visitor's already-parsed `Headers` or from constants.
 */
export function upstreamHeaders(request: Request, clientIp: string, contentType?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null && value.length <= 1024) out[name] = value;
  }
  if (IP_PATTERN.test(clientIp)) out['x-forwarded-for'] = clientIp;
  if (request.headers.get(REQUESTED_WITH_HEADER) === REQUESTED_WITH_VALUE) {
    out[REQUESTED_WITH_HEADER.toLowerCase()] = REQUESTED_WITH_VALUE;
  }
  if (contentType) out['content-type'] = contentType;
  // Only the device cookie, and only a well-formed one: the site's own cookies (sessions!) stay here.
  const device = parseCookieHeader(request.headers.get('cookie')).get(MAUTIC_COOKIES.deviceId);
  if (device !== undefined && DEVICE_ID_PATTERN.test(device)) out.cookie = `${MAUTIC_COOKIES.deviceId}=${device}`;
  return out;
}

export type UpstreamResult =
  | { ok: true; response: Response; body: Uint8Array<ArrayBuffer> }
  | { ok: false; reason: 'timeout' | 'network' | 'too_large' };

/** Largest upstream answer we buffer (a hit answer is a few hundred bytes). */
const MAX_UPSTREAM_BODY = 256 * 1024;

/**
 * Shared deadline signals: calls starting within the same slot share one AbortSignal that fires
 * `timeoutMs + slot` after the slot began, so every call gets at least `timeoutMs` and at most
 * one slot more. Profiling on Node 20 showed a fresh AbortController plus timer per hit costing
 * more than the rest of the header policy; under load one signal now serves hundreds of hits.
 * An abort only affects calls still in flight, and no call ever outlives its deadline.
 */
export class Deadlines {
  private signal: AbortSignal | null = null;
  private slotStart = 0;
  private readonly slotMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(1, Math.min(100, Math.floor(timeoutMs / 20)));
  }

  /** A signal that aborts no sooner than `timeoutMs` from now and at most one slot later. */
  next(): AbortSignal {
    const now = this.now();
    if (this.signal === null || now - this.slotStart >= this.slotMs || this.signal.aborted) {
      this.slotStart = now;
      this.signal = timeoutSignal(this.timeoutMs + this.slotMs);
    }
    return this.signal;
  }
}

function timeoutSignal(ms: number): AbortSignal {
  if (typeof AbortSignal.timeout === 'function') return AbortSignal.timeout(ms);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms) as unknown as { unref?: () => void };
  timer.unref?.();
  return controller.signal;
}

/** One upstream call, no retry, aborted at the deadline (including reading the body). */
export async function callUpstream(
  fetchImpl: typeof fetch,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: Uint8Array<ArrayBuffer> },
  deadlines: Deadlines,
): Promise<UpstreamResult> {
  const signal = deadlines.next();
  try {
    const response = await fetchImpl(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal,
      redirect: 'manual',
    });
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > MAX_UPSTREAM_BODY) {
          await reader.cancel().catch(() => {});
          return { ok: false, reason: 'too_large' };
        }
        chunks.push(value);
      }
    }
    const body = new Uint8Array(total);
    let offset = 0;
    for (const c of chunks) {
      body.set(c, offset);
      offset += c.byteLength;
    }
    return { ok: true, response, body };
  } catch {
    return { ok: false, reason: signal.aborted ? 'timeout' : 'network' };
  }
}

/** `Set-Cookie` values of a fetch Response (getSetCookie where available). */
export function getSetCookies(headers: Headers): string[] {
  const h = headers as Headers & { getSetCookie?: () => string[] };
  if (typeof h.getSetCookie === 'function') return h.getSetCookie();
  const joined = headers.get('set-cookie');
  return joined ? joined.split(/,(?=\s*[A-Za-z0-9_-]+=)/) : [];
}
