/**
 * Node `IncomingMessage` → Web `Request`, and the visitor's IP. The body streams with
 * backpressure and is cut off as soon as it passes the limit.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from '../core/http.js';

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

const IP = /^[0-9A-Fa-f.:]{2,45}$/;
const HOST = /^[A-Za-z0-9.\-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

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
  return IP.test(candidate) ? candidate : socketIp;
}

function protocolOf(req: IncomingMessage, trustedHops: number): 'http' | 'https' {
  if (trustedHops > 0) {
    const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim().toLowerCase();
    if (proto === 'https' || proto === 'http') return proto;
  }
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

/** `http(s)://host` for the Request URL; an unusable Host header becomes `localhost`. */
export function originOf(req: IncomingMessage, trustedHops: number): string {
  const host = req.headers.host;
  return `${protocolOf(req, trustedHops)}://${host && HOST.test(host) ? host : 'localhost'}`;
}

function bodyStream(req: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  let total = 0;
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (finished) return;
        total += chunk.byteLength;
        if (total > limit) {
          finished = true;
          req.pause();
          controller.error(new BodyTooLargeError());
          return;
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => {
        if (!finished) {
          finished = true;
          controller.close();
        }
      });
      req.on('error', (err) => {
        if (!finished) {
          finished = true;
          controller.error(err);
        }
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      finished = true;
      req.pause();
    },
  });
}

/** Builds the Web Request. `target` is the raw request target (`req.url` / `originalUrl`). */
export function toWebRequest(req: IncomingMessage, target: string, origin: string, limit: number): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header the Fetch API refuses is dropped; the core never needs it.
    }
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(origin + target, {
    method,
    headers,
    body: hasBody ? bodyStream(req, limit) : undefined,
    // Required by undici for a streamed body.
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
}
