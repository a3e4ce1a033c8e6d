/**
 * What Mautic's script loads for a site besides hits, through the proxy (issue 13): dynamic web
 * content (`GET {basePath}/dwc/{slot}`) and focus items' scripts (`GET {basePath}/focus/{id}.js`),
 * so that a script talking to the proxy fills its slots and shows its focus items.
 *
 * Focus items are named by absolute Mautic URLs (`{mauticUrl}/focus/3.js`) in the `/mtc/event`
 * answer's `events.focus_item[].js` and in slot content; the browser loads scripts only from the
 * origin it talks to, so those URLs are rewritten to the proxy's (`{basePath}/focus/3.js`) on the
 * way out. Only under a `basePath`: mounted at the site's root, these paths stay the site's own.
 *
 * The same rules as the hit relay: exact paths and GET only, the identity parameters dropped from a
 * slot's query, allowlisted upstream headers, bounded time and size, and answers that are ours: a
 * slot answers Mautic's JSON object or a 204, a focus item answers Mautic's JavaScript; anything
 * else is a 502. No cookie passes either way but the device cookie upstream (Mautic sets none here).
 */
import type { ResolvedConfig } from './config.js';
import { dropIdentityParams } from './hit-params.js';
import { errorMessage, mediaType, methodNotAllowedMessage } from './http.js';
import type { Log } from './logger.js';
import { headerOf, type PlainRequest, type PlainResponse } from './plain-message.js';
import { MAX_UPSTREAM_BODY, upstreamHeaders, type UpstreamTransport } from './upstream.js';
import { jsonObjectOfText, utf8Text } from './text-body.js';

/** `/dwc/{slot}`: one segment (the browser sends the name through `encodeURIComponent`). */
const SLOT_PATH = /^\/dwc\/[^/]{1,200}$/;
/** `/focus/{id}.js`, the URL Mautic generates for a focus item. */
const FOCUS_PATH = /^\/focus\/[1-9][0-9]{0,9}\.js$/;
const SCRIPT_TYPES: ReadonlySet<string> = new Set(['application/javascript', 'text/javascript', 'application/x-javascript']);
/** Upstream headers that pass; the content type is ours. */
const PASSED_RESPONSE_HEADERS = ['cache-control', 'expires', 'pragma'];

export type ContentRoute = 'dwc' | 'focus';

export interface ContentRelayDeps {
  config: ResolvedConfig;
  transport: UpstreamTransport;
  log: Log;
}

/** Which content route `pathname` is, or null (also for any path when `basePath` is empty). */
export function contentRouteOf(config: ResolvedConfig, pathname: string): ContentRoute | null {
  if (config.basePath === '' || !pathname.startsWith(config.basePath + '/')) return null;
  const rest = pathname.slice(config.basePath.length);
  return SLOT_PATH.test(rest) ? 'dwc' : FOCUS_PATH.test(rest) ? 'focus' : null;
}

/**
 * `text` with each `{mauticUrl}/focus/{id}.js` made `{basePath}/focus/{id}.js` (a path on the
 * site, the proxy's origin). Other URLs stay as they are: the browser then ignores them.
 *
 * @example proxiedFocusUrls(config, '<script src="https://m.example.com/focus/3.js">') // → '<script src="/mt/focus/3.js">'
 */
export function proxiedFocusUrls(config: ResolvedConfig, text: string): string {
  if (config.basePath === '') return text;
  const prefix = config.mauticUrl + '/focus/';
  return text.split(prefix).reduce((out, part) => {
    const id = /^[1-9][0-9]{0,9}\.js/.exec(part);
    return id ? out + config.basePath + '/focus/' + part : out + prefix + part;
  });
}

/**
 * A `/mtc/event` answer with its focus items' URLs on the proxy (see above); null when it names none.
 *
 * @example focusItemsProxied(config, { events: { focus_item: [{ id: 3, js: 'https://m.example.com/focus/3.js' }] } })
 */
export function focusItemsProxied(config: ResolvedConfig, answer: Record<string, unknown>): Record<string, unknown> | null {
  const items = (answer.events as { focus_item?: unknown } | null | undefined)?.focus_item;
  if (!Array.isArray(items) || items.length === 0) return null;
  const focus_item = items.map((item: unknown) =>
    item && typeof item === 'object' && typeof (item as { js?: unknown }).js === 'string'
      ? { ...item, js: proxiedFocusUrls(config, (item as { js: string }).js) }
      : item,
  );
  return { ...answer, events: { ...(answer.events as object), focus_item } };
}

const utf8 = new TextEncoder();

/** Relays one content request (its route from `contentRouteOf`) to Mautic. Never throws. */
export async function relayContent(deps: ContentRelayDeps, route: ContentRoute, request: PlainRequest, url: URL, clientIp: string): Promise<PlainResponse> {
  const { config, transport, log } = deps;
  if (request.method !== 'GET') return methodNotAllowedMessage(['GET']);
  let search = '';
  if (route === 'dwc' && url.search !== '') {
    // A slot's query is the pageview's parameters: Mautic may identify a contact from them too.
    const kept = config.droppedHitParams.size === 0 ? null : dropIdentityParams(url.search.slice(1), config.droppedHitParams);
    search = kept === null ? url.search : kept === '' ? '' : '?' + kept;
  }
  const result = await transport({
    url: config.mauticUrl + url.pathname.slice(config.basePath.length) + search,
    method: 'GET',
    headers: upstreamHeaders(request, clientIp),
    body: null,
    timeoutMs: config.timeoutMs,
    maxAnswerBytes: MAX_UPSTREAM_BODY,
  });
  if (!result.ok) {
    log('warn', 'upstream request failed', { route, reason: result.reason });
    return result.reason === 'timeout' ? errorMessage(504, 'upstream_timeout') : errorMessage(502, 'upstream_error');
  }
  const upstream = result.response;
  const headers: Array<[string, string]> = [['x-content-type-options', 'nosniff']];
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = headerOf(upstream, name);
    if (value !== null) headers.push([name, value]);
  }
  if (headerOf(upstream, 'cache-control') === null) headers.push(['cache-control', 'no-store']);
  // No matching content: Mautic's empty 204, which keeps the slot's fallback.
  if (route === 'dwc' && upstream.status === 204) return { status: 204, headers, body: null };
  if (upstream.status === 200) {
    const text = upstream.body ? utf8Text(upstream.body) : null;
    if (route === 'focus' && text !== null && SCRIPT_TYPES.has(mediaType(headerOf(upstream, 'content-type')))) {
      return { status: 200, headers: [['content-type', 'application/javascript; charset=utf-8'], ...headers], body: upstream.body };
    }
    const answer = route === 'dwc' && text !== null ? jsonObjectOfText(text) : null;
    if (answer) {
      if (typeof answer.content === 'string') answer.content = proxiedFocusUrls(config, answer.content);
      return { status: 200, headers: [['content-type', 'application/json'], ...headers], body: utf8.encode(JSON.stringify(answer)) };
    }
  }
  log('warn', 'unexpected upstream answer', { route, status: upstream.status });
  return errorMessage(502, 'upstream_error');
}

