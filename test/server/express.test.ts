/**
 * The Express middleware in a real Express 5 app in front of the stand-in: the proxy's routes
 * are served, everything else falls through to the app, and the body limit holds.
 */
import express from 'express';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, expressMiddleware, loadSdkScript, mintIdentityToken } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen, startFakeUpstream } from './support/fake-upstream.js';
import { rawRequest, trickleRequest } from './support/raw-request.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';

const capture = installCapture();
const FORM = 'page_title=Shop&page_url=http%3A%2F%2Fsite.test%2Fshop&counter=0';
let mautic: Standin;
let app: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  mautic = await startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } });
  const proxy = createMauticProxy({
    mauticUrl: mautic.url,
    basePath: '/shop/mt',
    secret: SECRET,
    script: 'window.sdk=1;',
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    identify: { tokenSecret: TOKEN_SECRET },
    logger: capture.logger,
  });
  const e = express();
  const shop = express.Router();
  // Mounted under a prefix: the middleware uses originalUrl, so basePath is the full path.
  shop.use(expressMiddleware(proxy));
  shop.use(express.json());
  shop.post('/echo', (req, res) => {
    res.json({ echoed: req.body as unknown });
  });
  e.use('/shop', shop);
  e.get('/hello', (_req, res) => {
    res.send('hello from the app');
  });
  const parsedFirst = express.Router();
  parsedFirst.use(express.text({ type: '*/*' }));
  parsedFirst.use(expressMiddleware(createMauticProxy({ mauticUrl: mautic.url, basePath: '/late/mt', secret: SECRET, logger: capture.logger })));
  e.use('/late', parsedFirst);
  const server = createServer(e);
  app = await listen((req, res) => server.emit('request', req, res));
});
afterAll(async () => {
  await app?.close();
  await mautic?.close();
});

describe('expressMiddleware', () => {
  it('relays a hit and sets first-party cookies under the mounted base path', async () => {
    const res = await fetch(`${app.url}/shop/mt/mtc/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '6.6.6.6' },
      body: FORM,
    });
    expect(res.status).toBe(200);
    const json = JSON.parse(await capture.record(res)) as { id: number };
    expect(json.id).toBeGreaterThan(0);
    expect(mautic.hits.at(-1)).toMatchObject({ rawBody: FORM, ip: '127.0.0.1' });
    expect(res.headers.getSetCookie().find((c) => c.startsWith('mt_binding='))).toMatch(/Path=\/shop\/mt;/);
  });

  it('passes other requests to the app untouched, including JSON bodies', async () => {
    const hello = await fetch(`${app.url}/hello`);
    expect(await hello.text()).toBe('hello from the app');
    const echo = await fetch(`${app.url}/shop/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ echoed: { a: 1 } });
  });

  it('answers unknown routes under the base path with 404 and path tricks with 400', async () => {
    const before = mautic.requests.length;
    expect((await rawRequest({ port: app.port, path: '/shop/mt/api/contacts/1' })).status).toBe(404);
    expect((await rawRequest({ port: app.port, path: '/shop/mt/x/../mtc' })).status).toBe(400);
    expect((await rawRequest({ port: app.port, path: '/shop/mt/%2e%2e/mtc' })).status).toBe(400);
    expect(mautic.requests.length).toBe(before);
  });

  it('enforces the body limit while streaming (413, no upstream call)', async () => {
    const before = mautic.requests.length;
    const res = await rawRequest({
      port: app.port,
      method: 'POST',
      path: '/shop/mt/mtc/event',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      chunked: { chunk: Buffer.alloc(8192, 'a'), count: 8 },
    });
    expect(res.status).toBe(413);
    expect(mautic.requests.length).toBe(before);
  });

  it('identifies through Express', async () => {
    const token = await mintIdentityToken({ email: 'shopper@example.com', secret: TOKEN_SECRET });
    capture.sensitive.add(token);
    const res = await fetch(`${app.url}/shop/mt/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: app.url },
      body: JSON.stringify({ email: 'shopper@example.com', token }),
    });
    expect(res.status).toBe(200);
    await capture.record(res);
    expect(mautic.contacts.some((c) => c.fields.email === 'shopper@example.com')).toBe(true);
  });

  it('fails loudly (500) when a body parser consumed the body first', async () => {
    const res = await fetch(`${app.url}/late/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM });
    expect(res.status).toBe(500);
    await capture.record(res);
  });
});

describe('expressMiddleware and a slow body', () => {
  it('answers 408 within timeoutMs to a body that trickles in, without an upstream call', async () => {
    const upstream = await startFakeUpstream(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"success":1}' }));
    const e = express();
    e.use(expressMiddleware(createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, timeoutMs: 1000, logger: capture.logger })));
    const server = createServer(e);
    const s = await listen((req, res) => server.emit('request', req, res));
    try {
      for (const path of ['/mt/mtc/event', '/mt/identify']) {
        const slow = await trickleRequest({
          port: s.port,
          path,
          headers: { 'content-type': path.endsWith('event') ? 'application/x-www-form-urlencoded' : 'application/json' },
          declaredBytes: 200,
          intervalMs: 100,
          waitMs: 6000,
        });
        capture.responses.push(slow.text);
        expect(slow.status, path).toBe(408);
        expect(slow.elapsedMs, path).toBeLessThan(3000);
      }
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await s.close();
      await upstream.close();
    }
  });
});

describe('expressMiddleware at the site root (basePath "")', () => {
  it('serves only the exact routes and leaves every other path to the app', async () => {
    const proxy = createMauticProxy({ mauticUrl: mautic.url, basePath: '', secret: SECRET, script: 'x', logger: capture.logger });
    const e = express();
    e.use(expressMiddleware(proxy));
    e.use((_req, res) => {
      res.status(404).send('app 404');
    });
    const server = createServer(e);
    const s = await listen((req, res) => server.emit('request', req, res));
    try {
      const hit = await fetch(`${s.url}/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM });
      expect(hit.status).toBe(200);
      await capture.record(hit);
      expect(await (await fetch(`${s.url}/mtc.js`)).text()).toBe('x');
      const other = await fetch(`${s.url}/about`);
      expect(await other.text()).toBe('app 404');
      expect((await rawRequest({ port: s.port, path: '/x/../mtc/event', method: 'POST' })).status).toBe(400);
    } finally {
      await s.close();
    }
  });
});

describe('loadSdkScript', () => {
  it('reads the given file byte for byte and explains a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mt-sdk-'));
    const file = join(dir, 'mtc.js');
    writeFileSync(file, '/* sdk */ ü');
    expect(Buffer.from(await loadSdkScript(file)).toString('utf8')).toBe('/* sdk */ ü');
    await expect(loadSdkScript(join(dir, 'missing.js'))).rejects.toThrow(/mtc\.js not found/);
  });
});
