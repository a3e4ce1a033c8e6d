/**
 * The Node adapters' upstream transport (node:http with a keep-alive pool instead of the global
 * fetch) and the binding memos, over real HTTP on 127.0.0.1: what a site owner or Mautic would
 * notice — connections reused, answers unchanged, bounds and timeouts kept, no retry.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BindingSigner } from '../../src/server/core/binding.js';
import { createMauticProxy, expressMiddleware, toNodeListener } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { DEVICE, listen, TRACKING_JSON } from './support/fake-upstream.js';
import { listenLocal } from '../support/local-server.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

/** An upstream that counts the TCP connections it accepted and the requests it answered. */
async function countingUpstream(
  handler: Handler,
  keepAliveMs = 5_000,
): Promise<{ url: string; connections: () => number; open: () => number; requests: () => number; close(): Promise<void> }> {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      handler(req, Buffer.concat(chunks), res);
    });
  });
  server.keepAliveTimeout = keepAliveMs;
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const local = await listenLocal(server);
  return { url: local.url, connections: () => connections, open: () => sockets.size, requests: () => requests, close: local.close };
}

const tracking: Handler = (_req, _body, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': [`mautic_device_id=${DEVICE}; Max-Age=31536000; path=/`] });
  res.end(TRACKING_JSON(42, DEVICE));
};

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function relayTo(handler: Handler, extra: Partial<Parameters<typeof createMauticProxy>[0]> = {}, keepAliveMs?: number) {
  const upstream = await countingUpstream(handler, keepAliveMs);
  const proxy = createMauticProxy({ mauticUrl: upstream.url, basePath: '/mt', secret: SECRET, logger: capture.logger, ...extra });
  const site = await listen(toNodeListener(proxy));
  closers.push(site.close, upstream.close);
  return { upstream, site };
}

function postEvent(siteUrl: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${siteUrl}/mt/mtc/event`, { method: 'POST', body: FORM, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

describe('node:http upstream transport', () => {
  it('reuses one kept-alive upstream connection for consecutive hits', async () => {
    const { upstream, site } = await relayTo(tracking);
    for (let i = 0; i < 5; i++) {
      const res = await postEvent(site.url);
      expect(res.status).toBe(200);
      expect(JSON.parse(await capture.record(res))).toMatchObject({ id: 42, device_id: DEVICE });
    }
    expect(upstream.requests()).toBe(5);
    expect(upstream.connections()).toBe(1);
  });

  it('closes an idle upstream connection by itself, well before a typical 5 s server keep-alive', async () => {
    // An upstream that keeps idle connections for a minute: only the proxy can close this one.
    const { upstream, site } = await relayTo(tracking, {}, 60_000);
    expect((await postEvent(site.url)).status).toBe(200);
    expect(upstream.open()).toBe(1);
    const deadline = Date.now() + 15_000;
    while (upstream.open() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(upstream.open()).toBe(0);
  }, 20_000);

  it('sends Mautic one Host (its own host and port), the body with its length, and keep-alive; a GET without a body length', async () => {
    const seen: Array<{ method: string; raw: string[]; body: string }> = [];
    const { upstream, site } = await relayTo((req, body, res) => {
      seen.push({ method: req.method ?? '', raw: req.rawHeaders, body: body.toString() });
      tracking(req, body, res);
    });
    expect((await postEvent(site.url, { 'user-agent': 'UA-1', host: 'ignored.example' })).status).toBe(200);
    const pixel = await fetch(`${site.url}/mt/mtracking.gif?page_url=x`);
    expect(pixel.status).toBe(200);
    await pixel.arrayBuffer();
    const names = (raw: string[]): string[] => raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    const value = (raw: string[], name: string): string | undefined => raw[raw.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === name) + 1];
    const [post, get] = seen;
    expect(post!.method).toBe('POST');
    expect(names(post!.raw).filter((n) => n === 'host')).toHaveLength(1);
    expect(value(post!.raw, 'host')).toBe(new URL(upstream.url).host);
    expect(value(post!.raw, 'content-length')).toBe(String(Buffer.byteLength(FORM)));
    expect(post!.body).toBe(FORM);
    expect(value(post!.raw, 'user-agent')).toBe('UA-1');
    expect(value(post!.raw, 'connection')).toBe('keep-alive');
    expect(names(post!.raw)).not.toContain('transfer-encoding');
    expect(get!.method).toBe('GET');
    expect(value(get!.raw, 'host')).toBe(new URL(upstream.url).host);
    expect(names(get!.raw)).not.toContain('content-length');
    expect(names(get!.raw)).not.toContain('transfer-encoding');
  });

  it('answers with a Content-Length and the exact upstream body, plus the binding cookie', async () => {
    const { site } = await relayTo(tracking);
    const res = await postEvent(site.url);
    const text = await capture.record(res);
    expect(text).toBe(TRACKING_JSON(42, DEVICE));
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(res.headers.get('set-cookie')).toMatch(/mt_binding=v1\.42\./);
  });

  it('decodes an upstream that gzips although we never asked, and drops its encoding headers', async () => {
    const { site } = await relayTo((_req, _body, res) => {
      const gz = gzipSync(Buffer.from(TRACKING_JSON(7, DEVICE)));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
    const res = await postEvent(site.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(JSON.parse(await capture.record(res))).toMatchObject({ id: 7 });
  });

  it('answers 502 for an oversized upstream answer, sent once', async () => {
    const { upstream, site } = await relayTo((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(2 * 1024 * 1024, 'x'));
    });
    const res = await postEvent(site.url);
    expect(res.status).toBe(502);
    await capture.record(res);
    expect(upstream.requests()).toBe(1);
  });

  it('answers 504 when Mautic stops mid-answer past the timeout, without a retry', async () => {
    const { upstream, site } = await relayTo(
      (_req, _body, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"success":1,'); // …and never the rest
      },
      { timeoutMs: 600 },
    );
    const res = await postEvent(site.url);
    expect(res.status).toBe(504);
    await capture.record(res);
    expect(upstream.requests()).toBe(1);
  });

  it('keeps a fetch passed in the config (instrumentation) instead of the Node transport', async () => {
    const upstream = await countingUpstream(tracking);
    let calls = 0;
    const counted: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const proxy = createMauticProxy({ mauticUrl: upstream.url, basePath: '/mt', secret: SECRET, logger: capture.logger, fetch: counted });
    const site = await listen(toNodeListener(proxy));
    const middleware = expressMiddleware(proxy);
    const viaExpress = await listen((req, res) => middleware(req, res, () => res.end()));
    closers.push(site.close, viaExpress.close, upstream.close);
    expect((await postEvent(site.url)).status).toBe(200);
    expect((await postEvent(viaExpress.url)).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('serves many concurrent first hits, each relayed exactly once', async () => {
    const { upstream, site } = await relayTo(tracking);
    const answers = await Promise.all(Array.from({ length: 40 }, () => postEvent(site.url)));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    const cookies = await Promise.all(answers.map(async (r) => (await capture.record(r), r.headers.get('set-cookie') ?? '')));
    expect(cookies.every((c) => /mt_binding=v1\.42\.k3j9x0c1m2n4b5v6z7a8s9d\.\d+\.[A-Za-z0-9_-]{43};/.test(c))).toBe(true);
    expect(upstream.requests()).toBe(40);
  });
});

describe('binding memos', () => {
  it('a remembered valid binding still expires, and a forged one is never remembered', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const signer = new BindingSigner(SECRET, 60, () => nowMs);
    const value = await signer.sign(42, DEVICE);
    expect(await signer.verify(value)).toMatchObject({ contactId: 42, deviceId: DEVICE });
    expect(await signer.verify(value)).toMatchObject({ contactId: 42 });
    const forged = value.replace('v1.42.', 'v1.43.');
    expect(await signer.verify(forged)).toBeNull();
    expect(await signer.verify(forged)).toBeNull();
    nowMs += 61_000;
    expect(await signer.verify(value)).toBeNull();
  });

  it('the same binding in the same second signs identically; another contact or second does not', async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const signer = new BindingSigner(SECRET, 3600, () => nowMs);
    const [a, b] = await Promise.all([signer.sign(42, DEVICE), signer.sign(42, DEVICE)]);
    expect(a).toBe(b);
    expect(await signer.sign(43, DEVICE)).not.toBe(a);
    nowMs += 1000;
    const later = await signer.sign(42, DEVICE);
    expect(later).not.toBe(a);
    expect(await new BindingSigner(SECRET, 3600, () => nowMs).verify(later)).toMatchObject({ contactId: 42 });
  });
});
