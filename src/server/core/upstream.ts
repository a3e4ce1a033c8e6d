/**
 * The request sent to Mautic for a relayed hit: headers built from an allowlist (never copied),
 * one `X-Forwarded-For`, one fixed upstream, bounded time, no retry.
 */
import { DEVICE_ID_PATTERN, MAUTIC_CLIENT_IP_HEADERS, MAUTIC_COOKIES, REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../../protocol/wire.js';
import { parseCookieHeader } from './cookies.js';
import { isIpAddress } from './ip.js';
import type { PlainRequest, PlainResponse } from './plain-message.js';

/**
 * Client IP headers Mautic reads (docs/protocol.md §6) plus `X-Real-IP`, which reverse proxies commonly
 * set and other software in front of Mautic may trust. Listed for documentation and tests: the relay
 * builds upstream headers from an allowlist, so none of these can pass anyway.
 */
export const CLIENT_IP_HEADERS = [...MAUTIC_CLIENT_IP_HEADERS, 'x-real-ip'] as const;

/** Headers copied from the visitor's request, when present and sane. */
const PASSED_HEADERS = ['user-agent', 'accept-language', 'accept'] as const;

/**
 * The visitor's privacy signals, `DNT: 1` (Do Not Track) and `Sec-GPC: 1` (Global Privacy
 * Control). Passed on to Mautic, which drops such hits from 7.1 on (docs/protocol.md §12), or, with
 * the proxy's `privacySignals: 'answer'`, answered by the proxy itself (relay.ts). Only the value
 * `1` means anything (`DNT: 0` is no signal), so only `1` is passed.
 */
export const PRIVACY_SIGNAL_HEADERS = ['dnt', 'sec-gpc'] as const;

/** True when the request carries `DNT: 1` or `Sec-GPC: 1`. */
export function sendsPrivacySignal(request: PlainRequest): boolean {
  return PRIVACY_SIGNAL_HEADERS.some((name) => request.header(name)?.trim() === '1');
}

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
  for (const name of PRIVACY_SIGNAL_HEADERS) {
    if (request.header(name)?.trim() === '1') out[name] = '1';
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

/** Mautic's answer, fully buffered (hit answers are a few hundred bytes), or why there is none. */
export type UpstreamResult = { ok: true; response: PlainResponse } | { ok: false; reason: 'timeout' | 'network' | 'too_large' };

/**
 * How the relay reaches Mautic. Contract: one attempt (never a retry: a relayed POST must not
 * count twice), no redirect following (a 3xx is returned as is), the answer's bytes unchanged,
 * and a settled result by `timeoutMs` (plus at most a small slack). Never rejects.
 * The answer's header names are lower-case. The default is `fetchTransport` over the configured
 * `fetch` (fetch-transport.ts); the Node entry passes a `node:http` one to the core's factory
 * (src/server/node/keep-alive-transport.ts).
 */
export type UpstreamTransport = (call: UpstreamCall) => Promise<UpstreamResult>;

/** Largest upstream answer we buffer (a hit answer is a few hundred bytes). */
export const MAX_UPSTREAM_BODY = 256 * 1024;
