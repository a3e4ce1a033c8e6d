/**
 * The request sent to Mautic for a relayed hit: headers built from an allowlist (never copied),
 * one `X-Forwarded-For`, one fixed upstream, bounded time, no retry.
 */
import { DEVICE_ID_PATTERN, MAUTIC_CLIENT_IP_HEADERS, MAUTIC_COOKIES, REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../../protocol/wire.js';
import { parseCookieHeader } from './cookies.js';
import { isIpAddress } from './ip.js';
import type { PlainRequest } from './message.js';

/**
 * Client IP headers Mautic reads (docs/protocol.md §6) plus `X-Real-IP`, which reverse proxies commonly
 * set and other software in front of Mautic may trust. Listed for documentation and tests: the relay
 * builds upstream headers from an allowlist, so none of these can pass anyway.
 */
export const CLIENT_IP_HEADERS = [...MAUTIC_CLIENT_IP_HEADERS, 'x-real-ip'] as const;

/** Headers copied from the visitor's request, when present and sane. */
const PASSED_HEADERS = ['user-agent', 'accept-language', 'accept'] as const;

/** Lower-cased: `PlainRequest.header` takes lower-case names (Node's parsed headers are keyed so). */
const REQUESTED_WITH = REQUESTED_WITH_HEADER.toLowerCase();

/**
 * Builds the upstream headers for a relayed request: a plain record (a valid `HeadersInit`),
 * since a `Headers` object would be validated, sorted and copied again by the transport.
 * Every value comes from the visitor's already-parsed headers or from constants.
 */
export function upstreamHeaders(request: PlainRequest, clientIp: string, contentType?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = request.header(name);
    if (value !== null && value.length <= 1024) out[name] = value;
  }
  // Whatever the runtime passed as the visitor's IP: only a real address goes to Mautic.
  if (isIpAddress(clientIp)) out['x-forwarded-for'] = clientIp;
  if (request.header(REQUESTED_WITH) === REQUESTED_WITH_VALUE) {
    out[REQUESTED_WITH] = REQUESTED_WITH_VALUE;
  }
  if (contentType) out['content-type'] = contentType;
  // Only the device cookie, and only a well-formed one: the site's own cookies (sessions!) stay here.
  const device = parseCookieHeader(request.header('cookie')).get(MAUTIC_COOKIES.deviceId);
  if (device !== undefined && DEVICE_ID_PATTERN.test(device)) out.cookie = `${MAUTIC_COOKIES.deviceId}=${device}`;
  return out;
}

/** One relayed call to Mautic. */
export interface UpstreamCall {
  url: string;
  method: 'GET' | 'POST';
  /** Lower-case names, from `upstreamHeaders`. */
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
  /** The whole call (connect, send, answer) must end within this; then it is abandoned. */
  timeoutMs: number;
  /** Larger answers are abandoned (`too_large`). */
  maxAnswerBytes: number;
}

/** Mautic's answer, fully buffered (hit answers are a few hundred bytes). */
export interface UpstreamAnswer {
  status: number;
  /** One header by lower-case name; null when absent. */
  header(name: string): string | null;
  setCookies: string[];
  body: Uint8Array<ArrayBuffer>;
}

export type UpstreamResult = { ok: true; answer: UpstreamAnswer } | { ok: false; reason: 'timeout' | 'network' | 'too_large' };

/**
 * How the relay reaches Mautic. Contract: one attempt (never a retry: a relayed POST must not
 * count twice), no redirect following (a 3xx is returned as is), the answer's bytes unchanged,
 * and a settled result by `timeoutMs` (plus at most a small slack). Never rejects.
 * The default is `fetchTransport` over the configured `fetch`; the Node adapters offer a
 * `node:http` one (src/server/node/upstream-transport.ts).
 */
export type UpstreamTransport = (call: UpstreamCall) => Promise<UpstreamResult>;

/** Largest upstream answer we buffer (a hit answer is a few hundred bytes). */
export const MAX_UPSTREAM_BODY = 256 * 1024;

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

/**
 * The portable transport: `fetch` with `redirect: 'manual'` and a shared deadline signal that
 * covers reading the body too.
 */
export function fetchTransport(fetchImpl: typeof fetch, deadlines: Deadlines): UpstreamTransport {
  return async (call) => {
    const signal = deadlines.next();
    try {
      const response = await fetchImpl(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body ?? undefined,
        signal,
        redirect: 'manual',
      });
      const body = await readAnswerBody(response, Math.min(call.maxAnswerBytes, MAX_UPSTREAM_BODY));
      if (!body) return { ok: false, reason: 'too_large' };
      const headers = response.headers;
      return { ok: true, answer: { status: response.status, header: (name) => headers.get(name), setCookies: getSetCookies(headers), body } };
    } catch {
      return { ok: false, reason: signal.aborted ? 'timeout' : 'network' };
    }
  };
}

/** The whole body, or null (stream cancelled) once it passes `limit`. */
async function readAnswerBody(response: Response, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return null;
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
  return body;
}

/** `Set-Cookie` values of a fetch Response (getSetCookie where available). */
export function getSetCookies(headers: Headers): string[] {
  const h = headers as Headers & { getSetCookie?: () => string[] };
  if (typeof h.getSetCookie === 'function') return h.getSetCookie();
  const joined = headers.get('set-cookie');
  return joined ? joined.split(/,(?=\s*[A-Za-z0-9_-]+=)/) : [];
}
