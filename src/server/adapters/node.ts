/**
 * Node `http` adapter: `toNodeListener(proxy)` is a `(req, res)` listener for
 * `http.createServer`; the shared `handleNode` also backs the Express middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MauticProxy } from '../core/proxy.js';
import { hasPathTrick } from '../core/routes.js';
import { errorResponse } from '../core/http.js';
import { getSetCookies } from '../core/upstream.js';
import { clientIpOf, originOf, toWebRequest, type NodeAdapterOptions } from './node-request.js';

export type { NodeAdapterOptions } from './node-request.js';

/** Writes a Web Response to a Node response, streaming with backpressure. */
export async function writeNodeResponse(res: ServerResponse, response: Response, method: string): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = getSetCookies(response.headers);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body || method === 'HEAD') {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } finally {
    res.end();
  }
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
  let response: Response;
  try {
    const rawPath = target.split('?')[0] ?? '';
    const origin = originOf(req, hops);
    let pathname: string;
    try {
      pathname = new URL(origin + target).pathname;
    } catch {
      pathname = '';
    }
    const ours = proxy.owns(pathname) || (proxy.basePath !== '' && rawPath.startsWith(proxy.basePath + '/'));
    if (!ours && pathname !== '') {
      onOutside();
      return;
    }
    // Checked on the raw target: `new URL` would already have resolved `..` and `%2e%2e`.
    if (pathname === '' || hasPathTrick(target)) {
      response = errorResponse(400, 'bad_request');
    } else {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (Number.isFinite(declared) && declared > limit) response = errorResponse(413, 'body_too_large');
      else response = await proxy.handle(toWebRequest(req, target, origin, limit), { clientIp: clientIpOf(req, hops) });
    }
  } catch {
    response = errorResponse(500, 'internal_error');
  }
  // An unread body (rejected request) must not be drained on a kept-alive connection.
  if (!req.complete) res.shouldKeepAlive = false;
  await writeNodeResponse(res, response, method);
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
      void writeNodeResponse(res, errorResponse(404, 'not_found'), req.method ?? 'GET');
    }).catch(() => res.destroy());
  };
}
