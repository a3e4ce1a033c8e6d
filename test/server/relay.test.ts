/**
 * The tracking relay over real HTTP: proxy (Node adapter) → a recording upstream on 127.0.0.1.
 * Asserts the header policy on what the upstream actually receives, and that every rejected
 * request makes no upstream call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMauticProxy, toNodeListener, CLIENT_IP_HEADERS } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { DEVICE, GIF, HIT_FORM as FORM, listen, mauticLike, startFakeUpstream, TRACKING_JSON, type FakeUpstream, type UpstreamReply } from './support/fake-upstream.js';
import { rawRequest, trickleRequest } from './support/raw-request.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const SCRIPT = '/* mautic-tracker sdk */ (function(){ window.mt = window.mt || function(){}; })();';

/** A script with each default route once, as dist/mtc.js has them. */
const ROUTED_SCRIPT = '(function(){var r=["/mtc/event","/mtracking.gif?","/mtc","/identify"];})();';

let upstream: FakeUpstream;
let site: Awaited<ReturnType<typeof listen>>;
let hopsSite: Awaited<ReturnType<typeof listen>>;
let renamedSite: Awaited<ReturnType<typeof listen>>;
/** A short upstream timeout on its own proxy, for the hang test only. */
let impatientSite: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  upstream = await startFakeUpstream(mauticLike);
  const proxy = createMauticProxy({ mauticUrl: upstream.url, basePath: '/mt', secret: SECRET, script: SCRIPT, logger: capture.logger });
  site = await listen(toNodeListener(proxy));
  const impatient = createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, logger: capture.logger, timeoutMs: 1000 });
  impatientSite = await listen(toNodeListener(impatient));
  hopsSite = await listen(toNodeListener(proxy, { trustedHops: 1 }));
  const renamed = createMauticProxy({
    mauticUrl: upstream.url,
    basePath: '/t',
    secret: SECRET,
    script: ROUTED_SCRIPT,
    paths: { event: '/e', pixel: '/p.gif', contactIds: '/ids', script: '/s.js' },
    logger: capture.logger,
  });
  renamedSite = await listen(toNodeListener(renamed));
});

afterAll(async () => {
  await Promise.all([site?.close(), hopsSite?.close(), renamedSite?.close(), impatientSite?.close(), upstream?.close()]);
});

beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = mauticLike;
});

async function post(url: string, init: RequestInit = {}): Promise<{ res: Response; text: string }> {
  const res = await fetch(url, { method: 'POST', body: FORM, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...init });
  return { res, text: await capture.record(res) };
}

describe('event relay', () => {
  it('forwards the body byte-identical with one X-Forwarded-For from the socket and no spoofed IP header', async () => {
    const spoofed: Record<string, string> = {};
    for (const h of CLIENT_IP_HEADERS) spoofed[h] = '6.6.6.6';
    spoofed['forwarded'] = 'for=6.6.6.6;proto=https';
    const { res, text } = await post(`${site.url}/mt/mtc/event`, {
      headers: {
        ...spoofed,
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Mozilla/5.0 TestBrowser',
        'accept-language': 'de-DE,de;q=0.9',
        'x-requested-with': 'XMLHttpRequest',
        authorization: 'Bearer should-not-pass',
        cookie: `session=site-session-cookie; mautic_device_id=${DEVICE}; mtc_id=7; other=1`,
      },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ success: 1, id: 42, sid: DEVICE, device_id: DEVICE, events: [] });
    expect(upstream.requests).toHaveLength(1);
    const got = upstream.requests[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/mtc/event');
    expect(got.body.toString('utf8')).toBe(FORM);
    expect(got.headers['content-type']).toEqual(['application/x-www-form-urlencoded']);
    expect(got.headers['x-forwarded-for']).toEqual(['127.0.0.1']);
    for (const h of CLIENT_IP_HEADERS.filter((x) => x !== 'x-forwarded-for')) expect(got.headers[h], h).toBeUndefined();
    expect(got.headers['user-agent']).toEqual(['Mozilla/5.0 TestBrowser']);
    expect(got.headers['accept-language']).toEqual(['de-DE,de;q=0.9']);
    expect(got.headers['cookie']).toEqual([`mautic_device_id=${DEVICE}`]);
    expect(got.headers['authorization']).toBeUndefined();
  });

  it('rewrites Mautic cookies first-party, drops its session cookie, CORS and server headers, and binds the visitor', async () => {
    const { res } = await post(`${site.url}/mt/mtc/event`);
    const cookies = res.headers.getSetCookie();
    const device = cookies.find((c) => c.startsWith('mautic_device_id='))!;
    expect(device).toBe(`mautic_device_id=${DEVICE}; Path=/; Max-Age=31536000; SameSite=Lax`);
    expect(cookies.find((c) => c.startsWith('mtc_id='))).toBe('mtc_id=42; Path=/; SameSite=Lax');
    expect(cookies.some((c) => /PHPSESSID/i.test(c))).toBe(false);
    expect(cookies.some((c) => /domain=/i.test(c))).toBe(false);
    const binding = cookies.find((c) => c.startsWith('mt_binding='))!;
    expect(binding).toMatch(new RegExp(`^mt_binding=v1\\.42\\.${DEVICE}\\.\\d+\\.[A-Za-z0-9_-]{43}; Path=/mt; Max-Age=\\d+; SameSite=Lax; HttpOnly$`));
    for (const name of ['access-control-allow-origin', 'access-control-allow-credentials', 'mautic-version', 'server', 'x-powered-by']) {
      expect(res.headers.get(name), name).toBeNull();
    }
  });

  it('marks cookies Secure when the site is https (trusted hop says so) and takes the IP from the trusted hop', async () => {
    const res = await rawRequest({
      port: hopsSite.port,
      method: 'POST',
      path: '/mt/mtc/event',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '6.6.6.6, 203.0.113.7', 'x-forwarded-proto': 'https' },
      body: FORM,
    });
    expect(res.status).toBe(200);
    const cookies = res.headers['set-cookie'] ?? [];
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/; Secure/);
    expect(upstream.requests[0]!.headers['x-forwarded-for']).toEqual(['203.0.113.7']);
  });

  it('accepts the beacon form Blob and a charset parameter', async () => {
    const blob = new Blob([FORM], { type: 'application/x-www-form-urlencoded' });
    const a = await post(`${site.url}/mt/mtc/event`, { body: blob, headers: {} });
    expect(a.res.status).toBe(200);
    const b = await post(`${site.url}/mt/mtc/event`, { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' } });
    expect(b.res.status).toBe(200);
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[0]!.body.toString()).toBe(FORM);
  });

  it('refuses other content types with 415 and no upstream call', async () => {
    for (const type of ['text/plain', 'application/json', 'multipart/form-data; boundary=x', '']) {
      const { res } = await post(`${site.url}/mt/mtc/event`, { headers: type ? { 'content-type': type } : {}, body: type ? FORM : new Uint8Array(Buffer.from(FORM)) });
      expect(res.status, type).toBe(415);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 413 for an oversized body, declared or streamed, without an upstream call', async () => {
    const declared = await post(`${site.url}/mt/mtc/event`, { body: 'a='.padEnd(17 * 1024, 'x') });
    expect(declared.res.status).toBe(413);
    const streamed = await rawRequest({
      port: site.port,
      method: 'POST',
      path: '/mt/mtc/event',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      chunked: { chunk: Buffer.alloc(4096, 'x'), count: 64 },
    });
    expect(streamed.status).toBe(413);
    capture.responses.push(streamed.text);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 408 within timeoutMs to a body that trickles in a byte at a time, without an upstream call', async () => {
    // impatientSite: timeoutMs 1000. Without a deadline only Node's requestTimeout (300 s) ends it.
    const slow = await trickleRequest({
      port: impatientSite.port,
      path: '/mt/mtc/event',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      declaredBytes: 200,
      intervalMs: 100,
      waitMs: 6000,
    });
    capture.responses.push(slow.text);
    expect(slow.status).toBe(408);
    expect(JSON.parse(slow.text.slice(slow.text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'request_timeout' });
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(950);
    // Within timeoutMs plus slack for a loaded 2-core machine.
    expect(slow.elapsedMs).toBeLessThan(3000);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 400 for a body that is not UTF-8, without an upstream call', async () => {
    const { res } = await post(`${site.url}/mt/mtc/event`, { body: new Uint8Array([0x61, 0x3d, 0xff, 0xfe]) });
    expect(res.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 504 when Mautic hangs and never retries the POST', async () => {
    upstream.reply = () => ({ hang: true });
    const { res, text } = await post(`${impatientSite.url}/mt/mtc/event`);
    expect(res.status).toBe(504);
    expect(JSON.parse(text).error).toBe('upstream_timeout');
    await new Promise((r) => setTimeout(r, 300));
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers a Mautic 500 with its own 502 JSON error, once, without retrying', async () => {
    upstream.reply = () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>oops</h1>' });
    const { res, text } = await post(`${site.url}/mt/mtc/event`);
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(text).error).toBe('upstream_error');
    expect(upstream.requests).toHaveLength(1);
  });

  it('answers 502 for an upstream redirect (never followed)', async () => {
    upstream.reply = () => ({ status: 302, headers: { location: 'http://169.254.169.254/' } });
    const { res } = await post(`${site.url}/mt/mtc/event`);
    expect(res.status).toBe(502);
    expect(res.headers.get('location')).toBeNull();
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('answers are the proxy\'s own, never Mautic\'s page (issue 12, finding 3)', () => {
  const PAGE = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';
  /** Each relayed route, as the SDK calls it. */
  const routes: Array<{ name: string; send: () => Promise<Response> }> = [
    { name: 'event', send: () => fetch(`${site.url}/mt/mtc/event`, { method: 'POST', body: FORM, headers: { 'content-type': 'application/x-www-form-urlencoded' } }) },
    { name: 'contactIds', send: () => fetch(`${site.url}/mt/mtc?mautic_device_id=${DEVICE}`) },
    { name: 'pixel', send: () => fetch(`${site.url}/mt/mtracking.gif?page_url=x`) },
  ];
  /** Upstream answers no route may relay as they come. */
  const hostile: Array<{ name: string; reply: UpstreamReply; pixelOk: boolean }> = [
    { name: '200 text/html with a script', reply: { status: 200, headers: { 'content-type': 'text/html' }, body: PAGE }, pixelOk: true },
    { name: '500 text/html with a script', reply: { status: 500, headers: { 'content-type': 'text/html' }, body: PAGE }, pixelOk: false },
    { name: '404 JSON', reply: { status: 404, headers: { 'content-type': 'application/json' }, body: '{"error":"x"}' }, pixelOk: false },
    { name: '200 JSON array', reply: { status: 200, headers: { 'content-type': 'application/json' }, body: '[1,2]' }, pixelOk: true },
    { name: '200 JSON string', reply: { status: 200, headers: { 'content-type': 'application/json' }, body: '"<script>x</script>"' }, pixelOk: true },
    { name: '200 JSON null', reply: { status: 200, headers: { 'content-type': 'application/json' }, body: 'null' }, pixelOk: true },
    { name: '200 empty', reply: { status: 200, headers: { 'content-type': 'application/json' }, body: '' }, pixelOk: true },
    { name: '200 JavaScript', reply: { status: 200, headers: { 'content-type': 'text/javascript' }, body: 'alert(1)' }, pixelOk: true },
  ];

  it.each(hostile)('upstream $name: JSON routes answer a 502 JSON error; the pixel our GIF or a 502', async ({ reply, pixelOk }) => {
    upstream.reply = () => reply;
    for (const route of routes) {
      const res = await route.send();
      const bytes = Buffer.from(await res.arrayBuffer());
      capture.responses.push(bytes.toString('utf8'));
      const type = res.headers.get('content-type');
      expect(type, route.name).not.toMatch(/html|javascript/);
      expect(bytes.toString('utf8'), route.name).not.toContain('<script');
      expect(res.headers.get('x-content-type-options'), route.name).toBe('nosniff');
      if (route.name === 'pixel' && pixelOk) {
        expect(res.status, route.name).toBe(200);
        expect(type, route.name).toBe('image/gif');
        expect(bytes.equals(GIF), route.name).toBe(true);
      } else {
        expect(res.status, route.name).toBe(502);
        expect(type, route.name).toBe('application/json; charset=utf-8');
        expect(JSON.parse(bytes.toString('utf8')), route.name).toEqual({ error: 'upstream_error', message: 'Mautic could not be reached.' });
      }
    }
    expect(upstream.requests).toHaveLength(3);
  });

  it('passes Mautic\'s JSON object through under our JSON content type, whatever type Mautic named', async () => {
    const json = TRACKING_JSON(42, DEVICE);
    upstream.reply = (req) => ({ status: 200, headers: { 'content-type': 'text/html' }, body: req.url.startsWith('/mtracking.gif') ? PAGE : json });
    for (const route of routes) {
      const res = await route.send();
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(res.status, route.name).toBe(200);
      if (route.name === 'pixel') {
        expect(res.headers.get('content-type')).toBe('image/gif');
        expect(bytes.equals(GIF)).toBe(true);
      } else {
        expect(res.headers.get('content-type'), route.name).toBe('application/json');
        expect(bytes.toString('utf8'), route.name).toBe(json);
      }
    }
  });
});

describe('parameter policy: no identity claims through the relay (issue 12, finding 4)', () => {
  const PAGE_URL = 'http://site.test/p?utm_source=news&EMAIL=x%40evil.test&ct=abc&keep=1#top';
  const CLEAN_PAGE_URL = 'http://site.test/p?utm_source=news&keep=1#top';
  const CLAIMS = [
    'email=ceo%40example.com',
    'Email=ceo%40example.com',
    'email%5B%5D=ceo%40example.com',
    '%20email=ceo%40example.com',
    'ct=YToxOntzOjI6ImlkIjtpOjE7fQ%3D%3D',
    'mtc_id=1',
    'mtc.id=1',
    'customer_ref=A-1',
  ];
  const KEPT = ['page_title=Pricing', 'firstname=Jane', 'tags=a%2C-b', 'utm_campaign=spring', 'e_mail=not-a-field'];

  async function policySite(config: Partial<Parameters<typeof createMauticProxy>[0]>): Promise<Awaited<ReturnType<typeof listen>>> {
    return listen(toNodeListener(createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, logger: capture.logger, ...config })));
  }

  it('drops email, the unique-identifier fields, ct and mtc_id from the event body and from page_url\'s query', async () => {
    const s = await policySite({ uniqueIdentifierFields: ['email', 'customer_ref'] });
    try {
      const body = [...KEPT.slice(0, 2), ...CLAIMS, `page_url=${encodeURIComponent(PAGE_URL)}`, ...KEPT.slice(2)].join('&');
      const res = await fetch(`${s.url}/mt/mtc/event`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(200);
      await capture.record(res);
      expect(upstream.requests[0]!.body.toString('utf8')).toBe(
        [...KEPT.slice(0, 2), `page_url=${encodeURIComponent(CLEAN_PAGE_URL)}`, ...KEPT.slice(2)].join('&'),
      );
    } finally {
      await s.close();
    }
  });

  it('drops them from the pixel\'s query and its page_url, by default (email) without any option', async () => {
    const query = `?page_title=A&email=ceo%40example.com&page_url=${encodeURIComponent('http://site.test/?email=x&ct=1')}&mtc_id=3&counter=0`;
    const res = await fetch(`${site.url}/mt/mtracking.gif${query}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(upstream.requests[0]!.url).toBe(`/mtracking.gif?page_title=A&page_url=${encodeURIComponent('http://site.test/')}&counter=0`);
    // Only claims: nothing left, no empty `?`.
    const only = await fetch(`${site.url}/mt/mtracking.gif?email=a%40b.c`);
    await only.arrayBuffer();
    expect(upstream.requests[1]!.url).toBe('/mtracking.gif');
  });

  it('drops them from a dynamic content slot\'s query too (the pageview\'s parameters)', async () => {
    const res = await fetch(`${site.url}/mt/dwc/hero?page_title=A&email=ceo%40example.com&ct=1&mtc_id=3&counter=0`);
    await res.arrayBuffer();
    expect(upstream.requests[0]!.url).toBe('/dwc/hero?page_title=A&counter=0');
  });

  it('forwards a hit without claims byte for byte', async () => {
    const body = [...KEPT, `page_url=${encodeURIComponent('http://site.test/p?a=%20b&c=d')}`].join('&');
    const res = await fetch(`${site.url}/mt/mtc/event`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await capture.record(res);
    expect(upstream.requests[0]!.body.toString('utf8')).toBe(body);
  });

  it('passIdentityParams: true passes every parameter on unchanged', async () => {
    const s = await policySite({ passIdentityParams: true, uniqueIdentifierFields: ['email', 'customer_ref'] });
    try {
      const body = [...CLAIMS, `page_url=${encodeURIComponent(PAGE_URL)}`].join('&');
      const res = await fetch(`${s.url}/mt/mtc/event`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await capture.record(res);
      expect(upstream.requests[0]!.body.toString('utf8')).toBe(body);
      const pixel = await fetch(`${s.url}/mt/mtracking.gif?email=a%40b.c&ct=1`);
      await pixel.arrayBuffer();
      expect(upstream.requests[1]!.url).toBe('/mtracking.gif?email=a%40b.c&ct=1');
    } finally {
      await s.close();
    }
  });

  it('never forwards the legacy session cookies that let Mautic 5.1 claim a contact (mautic_session_id=<x>; <x>=<id>)', async () => {
    // Recorded: track_event_legacy_session_cookie_claims_A (Mautic 5.1 answered contact 1 for these cookies).
    for (const cookie of ['mautic_session_id=legacyabc; legacyabc=1', `mautic_session_id=legacyabc; legacyabc=1; mautic_device_id=${DEVICE}`]) {
      const res = await post(`${site.url}/mt/mtc/event`, { headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } });
      expect(res.res.status).toBe(200);
    }
    const pixel = await fetch(`${site.url}/mt/mtracking.gif?page_url=x`, { headers: { cookie: 'mautic_session_id=legacyabc; legacyabc=1' } });
    await pixel.arrayBuffer();
    const ids = await fetch(`${site.url}/mt/mtc`, { headers: { cookie: 'mautic_session_id=legacyabc; legacyabc=1' } });
    await capture.record(ids);
    expect(upstream.requests.map((r) => r.headers['cookie'])).toEqual([undefined, [`mautic_device_id=${DEVICE}`], undefined, undefined]);
    for (const r of upstream.requests) expect(JSON.stringify(r.headers)).not.toMatch(/legacyabc|mautic_session_id/);
  });
});

describe('pixel and contact ids', () => {
  it('relays the pixel with the query unchanged and the GIF byte-identical', async () => {
    const query = '?page_title=A%20B&page_url=http%3A%2F%2Fsite.test%2F&counter=0';
    const res = await fetch(`${site.url}/mt/mtracking.gif${query}`, { headers: { 'x-real-ip': '6.6.6.6', 'client-ip': '6.6.6.6' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
    expect(Buffer.from(await res.arrayBuffer()).equals(GIF)).toBe(true);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.url).toBe(`/mtracking.gif${query}`);
    expect(upstream.requests[0]!.headers['x-forwarded-for']).toEqual(['127.0.0.1']);
    expect(upstream.requests[0]!.headers['x-real-ip']).toBeUndefined();
    expect(upstream.requests[0]!.headers['client-ip']).toBeUndefined();
  });

  it('relays GET contact ids with its query', async () => {
    const res = await fetch(`${site.url}/mt/mtc?mautic_device_id=${DEVICE}`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(await capture.record(res))).toEqual({ id: 42, sid: DEVICE, device_id: DEVICE });
    expect(upstream.requests[0]!.url).toBe(`/mtc?mautic_device_id=${DEVICE}`);
    expect(upstream.requests[0]!.headers['x-requested-with']).toEqual(['XMLHttpRequest']);
  });

  it('answers 502 when Mautic is unreachable', async () => {
    const dead = await listen((_req, res) => res.end());
    await dead.close();
    const proxy = createMauticProxy({ mauticUrl: dead.url, secret: SECRET, logger: capture.logger });
    const s = await listen(toNodeListener(proxy));
    try {
      const res = await fetch(`${s.url}/mt/mtracking.gif?x=1`);
      expect(res.status).toBe(502);
      await capture.record(res);
    } finally {
      await s.close();
    }
  });
});

describe('route allowlist', () => {
  it('answers 404 for everything that is not a route, without an upstream call', async () => {
    for (const path of ['/', '/mt', '/mt/', '/mt/api/contacts/1', '/mt/oauth/v2/token', '/mt/mtc/event/x', '/mt/MTC/EVENT', '/mtc/event', '/mt/s/login', '/other']) {
      const res = await rawRequest({ port: site.port, path, method: 'GET' });
      expect(res.status, path).toBe(404);
      capture.responses.push(res.text);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects path tricks with 400, without an upstream call', async () => {
    const tricks = [
      '/mt/x/../mtc/event',
      '/mt/mtc/event/..',
      '/mt/./mtc.js',
      '/mt/%2e%2e/mt/mtc',
      '/mt/%2E%2E/mtc',
      '/mt/mtc%2Fevent',
      '/mt/mtc%2fevent',
      '/mt//mtc/event',
      '/mt/mtc/event%00',
      '/mt/mtc\\event',
      '/mt/mtc/%2e/event',
    ];
    for (const path of tricks) {
      const res = await rawRequest({ port: site.port, path, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM });
      expect(res.status, path).toBe(400);
      capture.responses.push(res.text);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 414 for an overlong URL without an upstream call', async () => {
    const res = await rawRequest({ port: site.port, path: `/mt/mtracking.gif?page_url=${'a'.repeat(9000)}` });
    expect(res.status).toBe(414);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 405 with Allow for a wrong method, without an upstream call', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/mt/mtc/event', 'POST'],
      ['OPTIONS', '/mt/mtc/event', 'POST'],
      ['PUT', '/mt/mtc/event', 'POST'],
      ['POST', '/mt/mtracking.gif', 'GET'],
      ['DELETE', '/mt/mtc', 'GET'],
      ['POST', '/mt/mtc.js', 'GET, HEAD'],
      ['GET', '/mt/identify', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await rawRequest({ port: site.port, method, path });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers['allow']).toBe(allow);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 404 for identify when identification is not configured', async () => {
    const res = await rawRequest({ port: site.port, method: 'POST', path: '/mt/identify', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it('serves renamed routes and no longer answers the default names', async () => {
    const hit = await post(`${renamedSite.url}/t/e`);
    expect(hit.res.status).toBe(200);
    expect(upstream.requests[0]!.url).toBe('/mtc/event');
    const pixel = await fetch(`${renamedSite.url}/t/p.gif?a=1`);
    expect(pixel.status).toBe(200);
    await pixel.arrayBuffer();
    expect(upstream.requests[1]!.url).toBe('/mtracking.gif?a=1');
    const ids = await fetch(`${renamedSite.url}/t/ids`);
    expect(ids.status).toBe(200);
    await capture.record(ids);
    expect(upstream.requests[2]!.url).toBe('/mtc');
    const script = await fetch(`${renamedSite.url}/t/s.js`);
    // The script sends to the renamed routes (test/server/script-routes.test.ts has the real build).
    expect(await script.text()).toBe('(function(){var r=["/e","/p.gif?","/ids","/identify"];})();');
    for (const path of ['/t/mtc/event', '/t/mtracking.gif', '/t/mtc', '/t/mtc.js', '/mt/mtc/event']) {
      const res = await rawRequest({ port: renamedSite.port, path, method: path.endsWith('event') ? 'POST' : 'GET' });
      expect(res.status, path).toBe(404);
    }
    expect(upstream.requests).toHaveLength(3);
  });
});

describe('script', () => {
  it('serves the SDK with a strong ETag and Cache-Control, and 304 on If-None-Match', async () => {
    const res = await fetch(`${site.url}/mt/mtc.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SCRIPT);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);

    const again = await rawRequest({ port: site.port, path: '/mt/mtc.js', headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['etag']).toBe(etag);

    const weak = await rawRequest({ port: site.port, path: '/mt/mtc.js', headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(weak.status).toBe(304);
    const stale = await rawRequest({ port: site.port, path: '/mt/mtc.js', headers: { 'if-none-match': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.text).toBe(SCRIPT);

    const head = await rawRequest({ port: site.port, method: 'HEAD', path: '/mt/mtc.js' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(SCRIPT)));
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 404 for the script when none is configured', async () => {
    const proxy = createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, logger: capture.logger });
    const s = await listen(toNodeListener(proxy));
    try {
      const res = await rawRequest({ port: s.port, path: '/mt/mtc.js' });
      expect(res.status).toBe(404);
    } finally {
      await s.close();
    }
  });
});
