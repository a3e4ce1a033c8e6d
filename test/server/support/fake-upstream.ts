/**
 * A tiny Mautic-shaped upstream on 127.0.0.1 that records exactly what it receives (raw
 * headers included), so tests can assert the proxy's header policy and count upstream calls.
 * Each test sets `reply` to choose the answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  const sockets = new Set<import('node:net').Socket>();
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
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return upstream;
}

/** Serves a Node request listener on 127.0.0.1:0; returns its base URL and a closer. */
export async function listen(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer(listener);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const TRACKING_JSON = (id: number, deviceId: string): string =>
  JSON.stringify({ success: 1, id, sid: deviceId, device_id: deviceId, events: [] });
