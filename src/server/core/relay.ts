/**
 * Relays the three tracking endpoints to the one configured Mautic: the event POST, the pixel
 * and the contact-id GET. Hits lose the parameters that claim an identity (hit-params.ts).
 * Answers are the proxy's own, served from the site's origin: JSON routes answer Mautic's JSON
 * only when it is a JSON object, the pixel answers our GIF, and an upstream error or any other
 * answer becomes a 502 JSON error, so a failing or compromised Mautic can never put its page
 * (or a script) on the site. Response headers are rebuilt from an allowlist: Mautic's CORS
 * headers, `Server`, `Mautic-Version` and session cookies never reach the browser.
 */
import { MAUTIC_PATHS } from '../../protocol/routes.js';
import { DEVICE_ID_PATTERN, FORM_CONTENT_TYPE, MAUTIC_COOKIES, TRACKING_PIXEL_GIF_BASE64 } from '../../protocol/wire.js';
import type { BindingSigner } from './binding.js';
import type { Binding } from './binding.js';
import { bindingCookieValue, bindingSetCookie, isSecureSite, knownBindingSetCookie } from './binding-cookie.js';
import { rewriteUpstreamSetCookie } from './cookies.js';
import type { ResolvedConfig } from './config.js';
import { focusItemsProxied } from './content-relay.js';
import { dropIdentityParams } from './hit-params.js';
import { HitLedger, takeHitId, type StoredAnswer } from './hit-ids.js';
import { bodyReadFailureMessage, errorMessage, mediaType } from './http.js';
import type { Log } from './logger.js';
import { headerOf, isPromiseLike, setCookiesOf, type PlainRequest, type PlainResponse } from './plain-message.js';
import { MAX_UPSTREAM_BODY, sendsPrivacySignal, upstreamHeaders, type UpstreamTransport } from './upstream.js';
import { jsonObjectOf, utf8Text } from './text-body.js';

/**
 * Mautic cookies the browser may receive, rewritten first-party: the two the SDK also stores.
 * `mautic_referer_id` is not relayed since it would never be forwarded back (only the device
 * cookie goes upstream).
 */
const RELAYED_COOKIES: ReadonlySet<string> = new Set([MAUTIC_COOKIES.deviceId, MAUTIC_COOKIES.contactId]);
/** Upstream response headers that pass (besides rewritten Set-Cookie); the content type is ours. */
const PASSED_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['cache-control', 'expires', 'pragma']);

/** The pixel's answer, whatever Mautic's bytes were. */
const PIXEL_GIF = Uint8Array.from(atob(TRACKING_PIXEL_GIF_BASE64), (char) => char.charCodeAt(0));
const JSON_CONTENT_TYPE = 'application/json';
const utf8 = new TextEncoder();

/**
 * What Mautic answers a hit it does not track (a bot: track_event_bot_ua, mtc_get_contact_bot_ua):
 * the SDK settles such a send as delivered and stores no id, so the page's callbacks still run.
 */
const UNTRACKED_EVENT = utf8.encode('{"success":1,"id":0,"sid":null,"device_id":null,"events":[]}');
const UNTRACKED_CONTACT_IDS = utf8.encode('{"id":0,"sid":null,"device_id":null}');

export interface RelayDeps {
  config: ResolvedConfig;
  binding: BindingSigner;
  log: Log;
  /** How hits reach Mautic: `fetch` (fetch-transport.ts) or the runtime's own, chosen when the proxy is made. */
  transport: UpstreamTransport;
}

export type RelayRoute = 'event' | 'pixel' | 'contactIds';

export class Relay {
  private readonly hits: HitLedger;

  constructor(private readonly deps: RelayDeps) {
    const { hitStore, hitIdTtlMs, timeoutMs } = deps.config;
    // Pending outlives the first request's upstream call (timeoutMs plus the deadline slot) and its record.
    this.hits = new HitLedger({ store: hitStore, ttlMs: hitIdTtlMs, pendingMs: timeoutMs + 2000, waitMs: timeoutMs });
  }

  /** Relays one routed, method-checked hit. */
  async handle(route: RelayRoute, request: PlainRequest, url: URL, clientIp: string): Promise<PlainResponse> {
    const { config } = this.deps;
    if (config.answerPrivacySignals && sendsPrivacySignal(request)) return untrackedAnswer(route);
    let body: Uint8Array<ArrayBuffer> | null = null;
    let contentType: string | undefined;
    let hitId: string | null = null;
    if (route === 'event') {
      // Both the SDK's fetch and its beacon (a form Blob) send exactly this media type.
      if (mediaType(request.header('content-type')) !== FORM_CONTENT_TYPE) {
        return errorMessage(415, 'unsupported_media_type');
      }
      const reading = request.readBody(config.maxBodyBytes);
      // The Node listener hands over the body it already read: no microtask to wait for it.
      const read = isPromiseLike(reading) ? await reading : reading;
      if (!read.ok) return bodyReadFailureMessage(read.status);
      const text = utf8Text(read.bytes);
      if (text === null) return errorMessage(400, 'bad_request');
      // One pass: the hit id taken out, the identity parameters dropped; most bodies are unchanged.
      const hit = takeHitId(text, config.droppedHitParams);
      hitId = hit.id;
      body = hit.changed ? utf8.encode(hit.query) : read.bytes;
      contentType = FORM_CONTENT_TYPE;
    }
    let search = '';
    if (route !== 'event' && url.search !== '') {
      const query = url.search.slice(1);
      let kept: string;
      if (route === 'pixel') {
        const hit = takeHitId(query, config.droppedHitParams);
        hitId = hit.id;
        kept = hit.query;
      } else kept = dropIdentityParams(query, config.droppedHitParams) ?? query;
      search = kept === '' ? '' : '?' + kept;
    }
    if (hitId !== null) {
      const claim = await this.hits.claim(hitId);
      if (claim.kind === 'answered') return this.answer(route, storedUpstream(claim.answer), request, url);
      if (claim.kind === 'in_flight') return errorMessage(503, 'hit_in_flight', [['retry-after', '1']]);
      if (claim.kind === 'unavailable') {
        this.deps.log('warn', 'hit id not checked: the store failed; relayed without exactly-once', { route });
        hitId = null;
      }
    }
    const answered = await this.forward(route, request, url, clientIp, search, body, contentType);
    if (hitId !== null) {
      if (answered.upstream) {
        if (!(await this.hits.record(hitId, toStored(route, answered.upstream)))) {
          this.deps.log('warn', 'hit id not recorded: the store failed; a retry of this hit may count twice', { route });
        }
      } else await this.hits.release(hitId);
    }
    return answered.response;
  }

  /** Sends the hit to Mautic; `upstream` is Mautic's answer when the visitor gets it (a 2xx we relay). */
  private async forward(
    route: RelayRoute,
    request: PlainRequest,
    url: URL,
    clientIp: string,
    search: string,
    body: Uint8Array<ArrayBuffer> | null,
    contentType: string | undefined,
  ): Promise<{ response: PlainResponse; upstream: PlainResponse | null }> {
    const { config } = this.deps;
    const upstreamPath = route === 'event' ? MAUTIC_PATHS.event : route === 'pixel' ? MAUTIC_PATHS.pixel : MAUTIC_PATHS.contactIds;
    const result = await this.deps.transport({
      url: config.mauticUrl + upstreamPath + search,
      method: route === 'event' ? 'POST' : 'GET',
      headers: upstreamHeaders(request, clientIp, contentType),
      body,
      timeoutMs: config.timeoutMs,
      maxAnswerBytes: MAX_UPSTREAM_BODY,
    });
    if (!result.ok) {
      this.deps.log('warn', 'upstream request failed', { route, reason: result.reason });
      return { response: result.reason === 'timeout' ? errorMessage(504, 'upstream_timeout') : errorMessage(502, 'upstream_error'), upstream: null };
    }
    const upstream = result.response;
    if (upstream.status < 200 || upstream.status > 299) {
      // Mautic's error page (or a redirect) is never served from the site's origin.
      if (upstream.status >= 400 && upstream.status <= 599) this.deps.log('info', 'upstream answered an error', { route, status: upstream.status });
      else this.deps.log('warn', 'unexpected upstream status', { route, status: upstream.status });
      return { response: errorMessage(502, 'upstream_error'), upstream: null };
    }
    const built = this.answer(route, upstream, request, url);
    const response = isPromiseLike(built) ? await built : built;
    return { response, upstream: response.status === 502 ? null : upstream };
  }

  /**
   * The visitor's answer built from Mautic's (a fresh one, or the first one kept under a hit id).
   * A promise only when the binding cookie needs an HMAC first: most hits need none (see
   * `bindingCookie`), and each promise and `await` is a microtask per hit.
   */
  private answer(route: RelayRoute, upstream: PlainResponse, request: PlainRequest, url: URL): PlainResponse | Promise<PlainResponse> {
    const { config } = this.deps;
    let answerBody: Uint8Array<ArrayBuffer>;
    let answerType: string;
    let parsed: Record<string, unknown> | null = null;
    if (route === 'pixel') {
      answerBody = PIXEL_GIF.slice();
      answerType = 'image/gif';
    } else {
      parsed = upstream.body ? jsonObjectOf(upstream.body) : null;
      if (parsed === null || upstream.body === null) {
        this.deps.log('warn', 'upstream answer is not a JSON object', { route, status: upstream.status });
        return errorMessage(502, 'upstream_error');
      }
      // Focus items named on Mautic's origin load through the proxy (content-relay.ts).
      const proxied = route === 'event' ? focusItemsProxied(config, parsed) : null;
      answerBody = proxied ? utf8.encode(JSON.stringify(proxied)) : upstream.body;
      answerType = JSON_CONTENT_TYPE;
    }

    const headers: Array<[string, string]> = [
      ['content-type', answerType],
      ['x-content-type-options', 'nosniff'],
    ];
    let cacheControl = false;
    const cookieAttributes = { path: config.cookiePath, secure: isSecureSite(config, url) };
    for (const [name, value] of upstream.headers) {
      if (PASSED_RESPONSE_HEADERS.has(name)) {
        headers.push([name, value]);
        if (name === 'cache-control') cacheControl = true;
      } else if (name === 'set-cookie') {
        const rewritten = rewriteUpstreamSetCookie(value, RELAYED_COOKIES, cookieAttributes);
        if (rewritten) headers.push(['set-cookie', rewritten]);
      }
    }
    if (!cacheControl) headers.push(['cache-control', 'no-store']);
    // A JSON route keeps Mautic's 2xx status (200 in practice); the pixel is a plain 200.
    const response: PlainResponse = { status: route === 'pixel' ? 200 : upstream.status, headers, body: answerBody };
    if (route === 'event' && upstream.status === 200 && parsed) {
      const cookie = this.bindingCookie(request, parsed, url);
      if (isPromiseLike(cookie)) return cookie.then((value) => withSetCookie(response, value));
      withSetCookie(response, cookie);
    }
    return response;
  }

  /**
   * A fresh binding cookie when Mautic named a contact and device that differ from the current
   * binding. Synchronous unless an HMAC must be computed: a first visit has no cookie to verify, a
   * returning visitor's cookie verified before is remembered, and a signature made this second
   * for the same pair is reused (BindingSigner).
   */
  private bindingCookie(request: PlainRequest, parsed: Record<string, unknown>, url: URL): string | null | Promise<string | null> {
    const { id, device_id: deviceId } = parsed;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return null;
    if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId)) return null;
    const value = bindingCookieValue(this.deps.config, request.header('cookie'));
    const known = this.deps.binding.verifyKnown(value);
    if (known === undefined) return this.deps.binding.verify(value).then((current) => this.renewedBinding(current, id, deviceId, url));
    return this.renewedBinding(known, id, deviceId, url);
  }

  /** The binding cookie to set, given the verified current one: null when it already names this contact and device. */
  private renewedBinding(current: Binding | null, id: number, deviceId: string, url: URL): string | null | Promise<string> {
    if (current && current.contactId === id && current.deviceId === deviceId) return null;
    const { config, binding } = this.deps;
    return knownBindingSetCookie(config, binding, id, deviceId, url) ?? bindingSetCookie(config, binding, id, deviceId, url);
  }
}

/** `response` with the binding cookie, when there is one, as its last header. */
function withSetCookie(response: PlainResponse, cookie: string | null): PlainResponse {
  if (cookie) response.headers.push(['set-cookie', cookie]);
  return response;
}

/** The proxy's own "not tracked" answer for a hit with a privacy signal: no upstream call, no cookie. */
function untrackedAnswer(route: RelayRoute): PlainResponse {
  const pixel = route === 'pixel';
  return {
    status: 200,
    headers: [
      ['content-type', pixel ? 'image/gif' : JSON_CONTENT_TYPE],
      ['x-content-type-options', 'nosniff'],
      ['cache-control', 'no-store'],
    ],
    body: (pixel ? PIXEL_GIF : route === 'event' ? UNTRACKED_EVENT : UNTRACKED_CONTACT_IDS).slice(),
  };
}

/** What a hit id keeps of Mautic's answer (the pixel's body is ours, so only its headers). */
function toStored(route: RelayRoute, upstream: PlainResponse): StoredAnswer {
  const headers: Array<[string, string]> = [];
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = headerOf(upstream, name);
    if (value !== null) headers.push([name, value]);
  }
  return { status: upstream.status, headers, setCookies: setCookiesOf(upstream), body: route === 'pixel' || !upstream.body ? '' : (utf8Text(upstream.body) ?? '') };
}

/** A kept answer in the shape of a fresh one, so a retry's answer is built by the same code. */
function storedUpstream(stored: StoredAnswer): PlainResponse {
  const headers: Array<[string, string]> = [...stored.headers, ...stored.setCookies.map((value): [string, string] => ['set-cookie', value])];
  return { status: stored.status, headers, body: utf8.encode(stored.body) };
}

