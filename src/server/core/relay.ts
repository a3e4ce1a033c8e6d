/**
 * Relays the three tracking endpoints to the one configured Mautic: the event POST, the pixel
 * and the contact-id GET. Response headers are rebuilt from an allowlist: Mautic's CORS headers,
 * `Server`, `Mautic-Version` and session cookies never reach the browser.
 */
import { DEVICE_ID_PATTERN, FORM_CONTENT_TYPE, MAUTIC_COOKIES, MAUTIC_PATHS } from '../../protocol/wire.js';
import type { BindingSigner } from './binding.js';
import { parseCookieHeader, rewriteUpstreamSetCookie, serializeCookie } from './cookies.js';
import type { ResolvedConfig } from './config.js';
import { errorResponse, mediaType, readBodyLimited } from './http.js';
import type { Log } from './logger.js';
import { callUpstream, Deadlines, getSetCookies, upstreamHeaders } from './upstream.js';

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

const utf8 = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class Relay {
  /** The upstream transport: the config's fetch, or a runtime-native one an adapter offered. */
  upstreamFetch: typeof fetch;

  private readonly deadlines: Deadlines;

  constructor(private readonly deps: RelayDeps) {
    this.upstreamFetch = deps.config.fetch;
    this.deadlines = new Deadlines(deps.config.timeoutMs);
  }

  async handle(route: RelayRoute, request: Request, url: URL, clientIp: string): Promise<Response> {
    const { config } = this.deps;
    let body: Uint8Array<ArrayBuffer> | undefined;
    let contentType: string | undefined;
    if (route === 'event') {
      // Both the SDK's fetch and its beacon (a form Blob) send exactly this media type.
      if (mediaType(request.headers.get('content-type')) !== FORM_CONTENT_TYPE) {
        return errorResponse(415, 'unsupported_media_type');
      }
      const read = await readBodyLimited(request, config.maxBodyBytes);
      if (!read.ok) return read.response;
      if (!isUtf8(read.bytes)) return errorResponse(400, 'bad_request');
      body = read.bytes;
      contentType = FORM_CONTENT_TYPE;
    }
    const upstreamPath = route === 'event' ? MAUTIC_PATHS.event : route === 'pixel' ? MAUTIC_PATHS.pixel : MAUTIC_PATHS.contactIds;
    const target = config.mauticUrl + upstreamPath + (route === 'event' ? '' : url.search);
    const result = await callUpstream(
      this.upstreamFetch,
      target,
      { method: route === 'event' ? 'POST' : 'GET', headers: upstreamHeaders(request, clientIp, contentType), body },
      this.deadlines,
    );
    if (!result.ok) {
      this.deps.log('warn', 'upstream request failed', { route, reason: result.reason });
      return result.reason === 'timeout' ? errorResponse(504, 'upstream_timeout') : errorResponse(502, 'upstream_error');
    }
    const upstream = result.response;
    if (upstream.status < 200 || (upstream.status >= 300 && upstream.status < 400) || upstream.status > 599) {
      this.deps.log('warn', 'unexpected upstream status', { route, status: upstream.status });
      return errorResponse(502, 'upstream_error');
    }
    if (upstream.status >= 400) this.deps.log('info', 'upstream answered an error', { route, status: upstream.status });

    // Built as pairs and handed to the Response once: a Headers object here would be copied again.
    const headers: Array<[string, string]> = [['x-content-type-options', 'nosniff']];
    let cacheControl = false;
    for (const name of PASSED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value === null) continue;
      headers.push([name, value]);
      if (name === 'cache-control') cacheControl = true;
    }
    if (!cacheControl) headers.push(['cache-control', 'no-store']);
    const secure = isSecureSite(config, url);
    for (const raw of getSetCookies(upstream.headers)) {
      const rewritten = rewriteUpstreamSetCookie(raw, RELAYED_COOKIES, { path: config.cookiePath, secure });
      if (rewritten) headers.push(['set-cookie', rewritten]);
    }
    if (route === 'event' && upstream.status === 200) {
      const cookie = await this.bindingCookie(request, result.body, secure);
      if (cookie) headers.push(['set-cookie', cookie]);
    }
    return new Response(result.body.byteLength > 0 ? result.body : null, { status: upstream.status, headers });
  }

  /** A fresh binding cookie when Mautic named a contact and device that differ from the current binding. */
  private async bindingCookie(request: Request, body: Uint8Array, secure: boolean): Promise<string | null> {
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
    const current = await binding.verify(parseCookieHeader(request.headers.get('cookie')).get(config.bindingCookieName));
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
