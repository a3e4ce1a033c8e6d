/**
 * Node `http` adapter: `toNodeListener(proxy)` is a `(req, res)` listener for
 * `http.createServer`; the shared `handleNode` also backs the Express middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../core/http.js';
import type { CoreAnswer, PlainResponse } from '../core/message.js';
import { offerRelayTransport, plainHandlerOf, type MauticProxy } from '../core/proxy.js';
import { hasPathTrick } from '../core/routes.js';
import { getSetCookies } from '../core/upstream.js';
import { sharedNodeUpstreamTransport } from './keep-alive-transport.js';
import { clientIpOf, NodePlainRequest, originOf, readNodeBody, type NodeAdapterOptions } from './incoming-request.js';

export type { NodeAdapterOptions } from './incoming-request.js';

/** Writes the core's answer: a plain one in a single `writeHead` + `end`, a Web one streamed. */
export function writeNodeAnswer(res: ServerResponse, answer: CoreAnswer, method: string): Promise<void> {
  if (answer instanceof Response) return writeNodeResponse(res, answer, method);
  writePlainResponse(res, answer, method);
  return Promise.resolve();
}

/** A flat [name, value, …] list for one writeHead: cheaper than a validated setHeader per header. */
function writePlainResponse(res: ServerResponse, answer: PlainResponse, method: string): void {
  const head: string[] = [];
  for (const [name, value] of answer.headers) head.push(name, value);
  const body = method === 'HEAD' ? null : answer.body;
  if (body) head.push('content-length', String(body.byteLength));
  res.writeHead(answer.status, head);
  res.end(body ?? undefined);
}

/** Writes a Web Response to a Node response, streaming with backpressure. */
export async function writeNodeResponse(res: ServerResponse, response: Response, method: string): Promise<void> {
  // A flat [name, value, …] list for one writeHead: cheaper than a validated setHeader per header.
  const head: string[] = [];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') head.push(name, value);
  });
  for (const cookie of getSetCookies(response.headers)) head.push('set-cookie', cookie);
  if (!response.body || method === 'HEAD') {
    res.writeHead(response.status, head);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  let second: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
    second = first.done ? first : await reader.read();
  } catch {
    res.destroy();
    return;
  }
  if (second.done) {
    // The core's answers are small in-memory bodies: one chunk, sent with a Content-Length in a
    // single write instead of chunked framing.
    if (!first.done && !response.headers.has('content-length')) head.push('content-length', String(first.value.byteLength));
    res.writeHead(response.status, head);
    res.end(first.done ? undefined : first.value);
    return;
  }
  res.writeHead(response.status, head);
  res.on('close', () => void reader.cancel().catch(() => {}));
  try {
    res.write(first.value);
    if (!res.write(second.value)) await drained(res);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
    }
  } finally {
    if (!res.writableEnded) res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
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
  // A proxy not made by `createMauticProxy` may not say; 10 s is the config's default.
  const bodyTimeoutMs = proxy.timeoutMs ?? 10_000;
  // A proxy not made by `createMauticProxy` (a wrapper, a test double) still works through `handle`.
  const handle = plainHandlerOf(proxy) ?? ((request, ctx) => proxy.handle(request.toRequest(), ctx));
  let answer: CoreAnswer;
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
      answer = errorMessage(400, 'bad_request');
    } else {
      const declared = Number(req.headers['content-length'] ?? '0');
      if (Number.isFinite(declared) && declared > limit) answer = errorMessage(413, 'body_too_large');
      else if (method === 'GET' || method === 'HEAD') {
        answer = await handle(new NodePlainRequest(req, target, origin, undefined), { clientIp: clientIpOf(req, hops) });
      } else {
        const read = await readNodeBody(req, limit, bodyTimeoutMs);
        answer = read.ok
          ? await handle(new NodePlainRequest(req, target, origin, read.body), { clientIp: clientIpOf(req, hops) })
          : read.status === 413
            ? errorMessage(413, 'body_too_large')
            : read.status === 408
              ? errorMessage(408, 'request_timeout')
              : errorMessage(400, 'bad_request');
      }
    }
  } catch {
    answer = errorMessage(500, 'internal_error');
  }
  // An unread body (rejected request) must not be drained on a kept-alive connection.
  if (!req.complete) res.shouldKeepAlive = false;
  await writeNodeAnswer(res, answer, method);
}

/**
 * A `node:http` request listener serving the proxy; everything outside `basePath` is 404.
 *
 * @example
 * import { createServer } from 'node:http';
 * createServer(toNodeListener(proxy, { trustedHops: 0 })).listen(8080);
 */
export function toNodeListener(proxy: MauticProxy, options: NodeAdapterOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  useNodeUpstream(proxy, options);
  return (req, res) => {
    void handleNode(proxy, req, res, req.url ?? '/', options, () => {
      void writeNodeAnswer(res, errorMessage(404, 'not_found'), req.method ?? 'GET');
    }).catch(() => res.destroy());
  };
}

/**
 * Gives the relay the `node:http` keep-alive transport unless the proxy config brought its own
 * `fetch` or the caller opted out (`nodeUpstream: false`).
 */
export function useNodeUpstream(proxy: MauticProxy, options: NodeAdapterOptions): void {
  if (options.nodeUpstream === false) return;
  const transport = sharedNodeUpstreamTransport();
  if (transport) offerRelayTransport(proxy, transport);
}
