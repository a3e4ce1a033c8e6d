/**
 * Relays the three tracking endpoints to the one configured Mautic: the event POST, the pixel
 * and the contact-id GET. Response headers are rebuilt from an allowlist: Mautic's CORS headers,
 * `Server`, `Mautic-Version` and session cookies never reach the browser.
 */
import { DEVICE_ID_PATTERN, FORM_CONTENT_TYPE, MAUTIC_COOKIES, MAUTIC_PATHS } from '../../protocol/wire.js';
import type { BindingSigner } from './binding.js';
import { parseCookieHeader, rewriteUpstreamSetCookie, serializeCookie } from './cookies.js';
import type { ResolvedConfig } from './config.js';
import { errorMessage, mediaType } from './http.js';
import type { Log } from './logger.js';
import type { PlainRequest, PlainResponse } from './message.js';
import { Deadlines, fetchTransport, MAX_UPSTREAM_BODY, upstreamHeaders, type UpstreamTransport } from './upstream.js';

/**
 * Mautic cookies the browser may receive, rewritten first-party: the two the SDK also stores.
 * `mautic_referer_id` is not relayed since it would never be forwarded back (only the device
 * cookie goes upstream).
 */
const RELAYED_COOKIES: ReadonlySet<string> = new Set([MAUTIC_COOKIES.deviceId, MAUTIC_COOKIES.contactId]);
/** Upstream response headers that pass (besides rewritten Set-Cookie). */
const PASSED_RESPONSE_HEADERS = ['content-type', 'cache-control', 'expires', 'pragma'];

export interface RelayDeps {
  config: ResolvedConfig;
  binding: BindingSigner;
  log: Log;
}

export type RelayRoute = 'event' | 'pixel' | 'contactIds';

export function isSecureSite(config: ResolvedConfig, url: URL): boolean {
  return config.secureCookies ?? url.protocol === 'https:';
}

/** Statuses whose answer has no body (a Web Response refuses one). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([204, 205, 304]);

const utf8 = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class Relay {
  /** How hits reach Mautic: `fetch` by default, or a runtime-native transport an adapter offered. */
  transport: UpstreamTransport;

  constructor(private readonly deps: RelayDeps) {
    this.transport = fetchTransport(deps.config.fetch, new Deadlines(deps.config.timeoutMs));
  }

  /** Relays one routed, method-checked hit. Works on plain messages only (see message.ts). */
  async handle(route: RelayRoute, request: PlainRequest, url: URL, clientIp: string): Promise<PlainResponse> {
    const { config } = this.deps;
    let body: Uint8Array<ArrayBuffer> | null = null;
    let contentType: string | undefined;
    if (route === 'event') {
      // Both the SDK's fetch and its beacon (a form Blob) send exactly this media type.
      if (mediaType(request.header('content-type')) !== FORM_CONTENT_TYPE) {
        return errorMessage(415, 'unsupported_media_type');
      }
      const read = await request.readBody(config.maxBodyBytes);
      if (!read.ok) {
        return read.status === 413
          ? errorMessage(413, 'body_too_large')
          : read.status === 408
            ? errorMessage(408, 'request_timeout')
            : errorMessage(400, 'bad_request');
      }
      if (!isUtf8(read.bytes)) return errorMessage(400, 'bad_request');
      body = read.bytes;
      contentType = FORM_CONTENT_TYPE;
    }
    const upstreamPath = route === 'event' ? MAUTIC_PATHS.event : route === 'pixel' ? MAUTIC_PATHS.pixel : MAUTIC_PATHS.contactIds;
    const result = await this.transport({
      url: config.mauticUrl + upstreamPath + (route === 'event' ? '' : url.search),
      method: route === 'event' ? 'POST' : 'GET',
      headers: upstreamHeaders(request, clientIp, contentType),
      body,
      timeoutMs: config.timeoutMs,
      maxAnswerBytes: MAX_UPSTREAM_BODY,
    });
    if (!result.ok) {
      this.deps.log('warn', 'upstream request failed', { route, reason: result.reason });
      return result.reason === 'timeout' ? errorMessage(504, 'upstream_timeout') : errorMessage(502, 'upstream_error');
    }
    const upstream = result.answer;
    if (upstream.status < 200 || (upstream.status >= 300 && upstream.status < 400) || upstream.status > 599) {
      this.deps.log('warn', 'unexpected upstream status', { route, status: upstream.status });
      return errorMessage(502, 'upstream_error');
    }
    if (upstream.status >= 400) this.deps.log('info', 'upstream answered an error', { route, status: upstream.status });

    const headers: Array<[string, string]> = [['x-content-type-options', 'nosniff']];
    let cacheControl = false;
    for (const name of PASSED_RESPONSE_HEADERS) {
      const value = upstream.header(name);
      if (value === null) continue;
      headers.push([name, value]);
      if (name === 'cache-control') cacheControl = true;
    }
    if (!cacheControl) headers.push(['cache-control', 'no-store']);
    const secure = isSecureSite(config, url);
    for (const raw of upstream.setCookies) {
      const rewritten = rewriteUpstreamSetCookie(raw, RELAYED_COOKIES, { path: config.cookiePath, secure });
      if (rewritten) headers.push(['set-cookie', rewritten]);
    }
    if (route === 'event' && upstream.status === 200) {
      const cookie = await this.bindingCookie(request, upstream.body, secure);
      if (cookie) headers.push(['set-cookie', cookie]);
    }
    return { status: upstream.status, headers, body: upstream.body.byteLength > 0 && !NULL_BODY_STATUSES.has(upstream.status) ? upstream.body : null };
  }

  /** A fresh binding cookie when Mautic named a contact and device that differ from the current binding. */
  private async bindingCookie(request: PlainRequest, body: Uint8Array, secure: boolean): Promise<string | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(body));
    } catch {
      return null;
    }
    const { id, device_id: deviceId } = (parsed ?? {}) as { id?: unknown; device_id?: unknown };
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return null;
    if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId)) return null;
    const { config, binding } = this.deps;
    const current = await binding.verify(parseCookieHeader(request.header('cookie')).get(config.bindingCookieName));
    if (current && current.contactId === id && current.deviceId === deviceId) return null;
    return serializeCookie(config.bindingCookieName, await binding.sign(id, deviceId), {
      path: config.basePath || '/',
      secure,
      httpOnly: true,
      maxAge: config.bindingMaxAgeSeconds,
    });
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
