/**
 * Node `http` adapter: `toNodeListener(proxy)` is a `(req, res)` listener for
 * `http.createServer`; the shared `handleNode` also backs the Express middleware. Requests go to
 * the core as plain messages (`proxy.handlePlain`) and its plain answers straight to the socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyReadFailureMessage, errorMessage } from '../core/http.js';
import type { PlainResponse } from '../core/plain-message.js';
import type { MauticProxy } from '../core/proxy.js';
import { hasPathTrick } from '../core/route-table.js';
import { clientIpOf, NodePlainRequest, originOf, parseRequestUrl, readNodeBody, type NodeAdapterOptions } from './incoming-request.js';

export type { NodeAdapterOptions } from './incoming-request.js';

/** Writes a plain response in a single `writeHead` + `end`: a flat [name, value, …] list is cheaper than a validated setHeader per header. */
export function writePlainResponse(res: ServerResponse, response: PlainResponse, method: string): void {
  const head: string[] = [];
  let length = false;
  for (const [name, value] of response.headers) {
    head.push(name, value);
    if (name === 'content-length') length = true;
  }
  const body = method === 'HEAD' ? null : response.body;
  if (body && !length) head.push('content-length', String(body.byteLength));
  res.writeHead(response.status, head);
  res.end(body ?? undefined);
}

/**
 * Handles one Node request. `onOutside` runs for requests outside the proxy's base path
 * (Express passes them on with `next`; the plain listener answers 404).
 */
export async function handleNode(
  proxy: MauticProxy,
  req: IncomingMessage,
  res: ServerResponse,
  target: string,
  options: NodeAdapterOptions,
  onOutside: () => void,
): Promise<void> {
  const method = req.method ?? 'GET';
  const hops = Math.max(0, Math.floor(options.trustedHops ?? 0));
  const limit = options.maxBodyBytes ?? proxy.maxBodyBytes;
  let answer: PlainResponse;
  try {
    const href = originOf(req, hops) + target;
    // Parsed once: the core routes on this same URL (PlainRequest.parsedUrl).
    const url = parseRequestUrl(href);
    const pathname = url === null ? '' : url.pathname;
    const ours = proxy.owns(pathname) || (proxy.basePath !== '' && target.startsWith(proxy.basePath + '/'));
    if (!ours && url !== null) {
      onOutside();
      return;
    }
    // Checked on the raw target: `new URL` would already have resolved `..` and `%2e%2e`.
    if (url === null || hasPathTrick(target)) {
      answer = errorMessage(400, 'bad_request');
    } else {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (Number.isFinite(declared) && declared > limit) answer = errorMessage(413, 'body_too_large');
      else if (method === 'GET' || method === 'HEAD') {
        answer = await proxy.handlePlain(new NodePlainRequest(req, href, url, undefined), { clientIp: clientIpOf(req, hops) });
      } else {
        const read = await readNodeBody(req, limit, proxy.timeoutMs);
        answer = read.ok
          ? await proxy.handlePlain(new NodePlainRequest(req, href, url, read.body), { clientIp: clientIpOf(req, hops) })
          : bodyReadFailureMessage(read.status);
      }
    }
  } catch {
    answer = errorMessage(500, 'internal_error');
  }
  // An unread body (rejected request) must not be drained on a kept-alive connection.
  if (!req.complete) res.shouldKeepAlive = false;
  writePlainResponse(res, answer, method);
}

/**
 * A `node:http` request listener serving the proxy; everything outside `basePath` is 404.
 *
 * @example
 * import { createServer } from 'node:http';
 * createServer(toNodeListener(proxy, { trustedHops: 0 })).listen(8080);
 */
export function toNodeListener(proxy: MauticProxy, options: NodeAdapterOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handleNode(proxy, req, res, req.url ?? '/', options, () => {
      writePlainResponse(res, errorMessage(404, 'not_found'), req.method ?? 'GET');
    }).catch(() => res.destroy());
  };
}
