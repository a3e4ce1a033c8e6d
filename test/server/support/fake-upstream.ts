/**
 * A tiny Mautic-shaped upstream on 127.0.0.1 that records exactly what it receives (raw
 * headers included), so tests can assert the proxy's header policy and count upstream calls.
 * Each test sets `reply` to choose the answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TRACKING_PIXEL_GIF_BASE64 } from '../../../src/protocol/wire.js';
import { listenLocal, type LocalServer } from '../../support/local-server.js';

export interface UpstreamRequest {
  method: string;
  url: string;
  /** Header name (lower-case) → every value received. */
  headers: Record<string, string[]>;
  body: Buffer;
}

export interface UpstreamReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Never answer. */
  hang?: boolean;
  delayMs?: number;
}

export type ReplyFn = (req: UpstreamRequest) => UpstreamReply | Promise<UpstreamReply>;

export interface FakeUpstream {
  url: string;
  requests: UpstreamRequest[];
  reply: ReplyFn;
  close(): Promise<void>;
}

export async function startFakeUpstream(reply: ReplyFn): Promise<FakeUpstream> {
  const upstream: FakeUpstream = { url: '', requests: [], reply, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string[]> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        (headers[name] ??= []).push(req.rawHeaders[i + 1]!);
      }
      const recorded: UpstreamRequest = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks) };
      upstream.requests.push(recorded);
      void Promise.resolve(upstream.reply(recorded)).then(async (r) => {
        if (r.hang) return;
        if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
        res.writeHead(r.status ?? 200, r.headers ?? {});
        res.end(r.body ?? '');
      });
    });
  });
  const local = await listenLocal(server);
  upstream.url = local.url;
  upstream.close = local.close;
  return upstream;
}

/** Serves a Node request listener on 127.0.0.1:0; returns its base URL and a closer. */
export function listen(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  return listenLocal(createServer(listener));
}

export const TRACKING_JSON = (id: number, deviceId: string): string =>
  JSON.stringify({ success: 1, id, sid: deviceId, device_id: deviceId, events: [] });

/** A device id as Mautic makes them, and a hit body as the SDK posts it. */
export const DEVICE = 'k3j9x0c1m2n4b5v6z7a8s9d';
export const HIT_FORM = 'page_title=Pricing%20%26%20Plans&page_url=http%3A%2F%2Fsite.test%2Fp&counter=0';
/** The pixel Mautic answers (docs/protocol.md §3). */
export const GIF = Buffer.from(TRACKING_PIXEL_GIF_BASE64, 'base64');

/**
 * Answers like Mautic 5 on its three tracking paths, with everything the proxy must not pass on:
 * CORS headers for another origin, `Mautic-Version`, `Server`, `X-Powered-By`, a PHP session
 * cookie and cookies for Mautic's own domain.
 */
export function mauticLike(req: { method: string; url: string }): UpstreamReply {
  if (req.method === 'POST' && req.url === '/mtc/event') {
    return {
      status: 200,
      headers: {
        'content-type': 'application/json',
        'access-control-allow-origin': 'http://evil.test',
        'access-control-allow-credentials': 'true',
        'mautic-version': '5.2.1',
        server: 'Apache/2.4 (Debian)',
        'x-powered-by': 'PHP/8.1',
        'set-cookie': [
          `mautic_device_id=${DEVICE}; expires=Mon, 22-Nov-2027 03:00:00 GMT; Max-Age=31536000; path=/; domain=mautic.example.com; secure; samesite=none`,
          'mtc_id=42; path=/; domain=mautic.example.com; secure; samesite=none',
          'PHPSESSID=sessionsecretvalue; path=/; HttpOnly',
        ],
      },
      body: TRACKING_JSON(42, DEVICE),
    };
  }
  if (req.method === 'GET' && req.url.startsWith('/mtracking.gif')) {
    return { status: 200, headers: { 'content-type': 'image/gif', 'cache-control': 'no-cache, no-store, must-revalidate', pragma: 'no-cache', expires: '0' }, body: GIF };
  }
  if (req.method === 'GET' && req.url.startsWith('/mtc')) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 42, sid: DEVICE, device_id: DEVICE }) };
  }
  return { status: 404, body: 'upstream 404' };
}
