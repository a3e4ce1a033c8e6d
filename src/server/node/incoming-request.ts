/**
 * Node `IncomingMessage` → the core's `PlainRequest`, and the visitor's IP. The body is read into a Buffer and cut off as soon as it passes the limit.
 */
import type { IncomingMessage } from 'node:http';
import { HOST_HEADER } from '../core/http.js';
import { isIpAddress } from '../core/ip.js';
import type { BodyRead, PlainRequest } from '../core/plain-message.js';

export interface NodeAdapterOptions {
  /**
   * Reverse proxies in front of this server that you control (load balancer, CDN). 0 (default):
   * the socket address is the visitor; `X-Forwarded-For` is ignored. n: the visitor is the n-th
   * address from the right of `X-Forwarded-For` + socket, and `X-Forwarded-Proto` is believed.
   */
  trustedHops?: number;
  /** Hard cap on a request body, bytes. Default: the proxy's `maxBodyBytes`. */
  maxBodyBytes?: number;
}

function stripMapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** The visitor's IP per `trustedHops`. Never trusts a header unless hops are configured. */
export function clientIpOf(req: IncomingMessage, trustedHops: number): string {
  const socketIp = stripMapped(req.socket.remoteAddress ?? '');
  if (trustedHops <= 0) return socketIp;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => stripMapped(s.trim()))
    .filter((s) => s !== '');
  const chain = [...forwarded, socketIp];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedHops)] ?? socketIp;
  // Only a valid IPv4 or IPv6 address: no port (`1.2.3.4:5678`), brackets, or zone (`fe80::1%eth0`).
  // The core's validator rather than `node:net`'s isIP: the package entry imports no Node builtin
  // (test/server/client-ip.test.ts checks the two agree).
  return isIpAddress(candidate) ? candidate : socketIp;
}

function protocolOf(req: IncomingMessage, trustedHops: number): 'http' | 'https' {
  if (trustedHops > 0) {
    const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase();
    if (proto === 'https' || proto === 'http') return proto;
  }
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

/**
 * `http(s)://host` for the Request URL: the host the browser used. Behind trusted hops that is
 * `X-Forwarded-Host`; an unusable value becomes `localhost`.
 */
export function originOf(req: IncomingMessage, trustedHops: number): string {
  let host = req.headers.host;
  if (trustedHops > 0) {
    // Like X-Forwarded-For: the entry our outermost trusted hop wrote, counted from the right.
    const entries = String(req.headers['x-forwarded-host'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const forwarded = entries[Math.max(0, entries.length - trustedHops)];
    if (forwarded !== undefined && HOST_HEADER.test(forwarded)) host = forwarded;
  }
  return `${protocolOf(req, trustedHops)}://${host && HOST_HEADER.test(host) ? host : 'localhost'}`;
}

let lastHref = '';
let lastUrl: URL | null = null;

/**
 * `new URL(href)`, or null when it does not parse. The last result is kept: a site's event hits
 * all go to one URL, and parsing it again cost ~6 µs per hit (a one-entry memo of a pure
 * function: exact). The object is then shared by the requests with that href, so nothing may
 * modify it: the core only reads it (PlainRequest.parsedUrl).
 */
export function parseRequestUrl(href: string): URL | null {
  if (href === lastHref && lastUrl !== null) return lastUrl;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  lastHref = href;
  lastUrl = url;
  return url;
}

export type NodeBodyResult = { ok: true; body: Buffer } | { ok: false; status: 400 | 408 | 413 };

/**
 * Reads the whole body into one Buffer, stopping as soon as it passes `limit` (the rest is
 * never buffered; the connection is then closed) or when it has not ended `timeoutMs` after the
 * read began (408: a body trickled in a byte at a time would otherwise hold the request, and a
 * socket, until Node's own `requestTimeout` of 300 s). Bodies here are at most a few KiB, for
 * which a Buffer is far cheaper than bridging the socket into a Web ReadableStream.
 */
export function readNodeBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<NodeBodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      req.pause();
      done({ ok: false, status: 408 });
    }, timeoutMs);
    const done = (result: NodeBodyResult): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.byteLength;
      if (total > limit) {
        req.pause();
        done({ ok: false, status: 413 });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
    const onError = (): void => done({ ok: false, status: 400 });
    // The client went away before the body ended.
    const onClose = (): void => {
      if (!req.complete) done({ ok: false, status: 400 });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * An `IncomingMessage` as the core's `PlainRequest`: header lookups go straight to Node's parsed
 * headers (repeated `Cookie` headers joined with `; `, others with `, `); the body was read before.
 */
export class NodePlainRequest implements PlainRequest {
  readonly method: string;

  constructor(
    private readonly req: IncomingMessage,
    /** The absolute URL: `originOf(req)` + the raw request target. */
    readonly url: string,
    /** `new URL(url)`: the listener parsed it to route the request. */
    readonly parsedUrl: URL,
    /** Read with `readNodeBody` (undefined for GET/HEAD). */
    private readonly body: Buffer | undefined,
  ) {
    this.method = req.method ?? 'GET';
  }

  header(name: string): string | null {
    const value = this.req.headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }

  readBody(limit: number): BodyRead {
    const body = this.body;
    if (!body) return { ok: true, bytes: new Uint8Array(0) };
    if (body.byteLength > limit) return { ok: false, status: 413 };
    return { ok: true, bytes: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength) };
  }
}
