/**
 * `proxy.handle(Request)` as Workers, Deno, Bun and Next.js call it (no Node adapter, the
 * configured `fetch` as transport), against a recording upstream on 127.0.0.1. The Node adapter
 * takes the core's plain-message path instead; both must apply the same policy, so the same hit
 * is also sent through `toNodeListener` and the answers compared.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMauticProxy, toNodeListener, CLIENT_IP_HEADERS, type MauticProxy } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { DEVICE, HIT_FORM as FORM, listen, mauticLike, startFakeUpstream, TRACKING_JSON, type FakeUpstream } from './support/fake-upstream.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const SCRIPT = '/* sdk */ (function(){})();';

let upstream: FakeUpstream;
let proxy: MauticProxy;
let impatient: MauticProxy;

beforeAll(async () => {
  upstream = await startFakeUpstream(mauticLike);
  proxy = createMauticProxy({ mauticUrl: upstream.url, basePath: '/mt', secret: SECRET, script: SCRIPT, logger: capture.logger });
  impatient = createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, logger: capture.logger, timeoutMs: 1000 });
});

afterAll(async () => {
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = mauticLike;
});

function spoofedHeaders(): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'test-agent/1.0',
    cookie: `mautic_device_id=${DEVICE}; site_session=keepme`,
  };
  for (const name of CLIENT_IP_HEADERS) headers[name] = '6.6.6.6';
  return headers;
}

/** A body stream that records whether anyone pulled from it. */
function watchedBody(bytes: Uint8Array, chunks = 1): { body: ReadableStream<Uint8Array>; pulled: () => boolean } {
  let pulls = 0;
  let sent = 0;
  // highWaterMark 0: no eager pull on construction, only a reader pulls.
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulls++;
        if (sent++ < chunks) controller.enqueue(bytes);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => pulls > 0 };
}

describe('handle(Request) relay', () => {
  it('relays an event with the same header policy and answer as the Node adapter', async () => {
    const res = await proxy.handle(new Request('http://site.test/mt/mtc/event', { method: 'POST', headers: spoofedHeaders(), body: FORM }), {
      clientIp: '203.0.113.7',
    });
    const text = await capture.record(res);
    expect(res.status).toBe(200);
    expect(text).toBe(TRACKING_JSON(42, DEVICE));
    const got = upstream.requests[0]!;
    expect(upstream.requests).toHaveLength(1);
    expect(got.body.toString()).toBe(FORM);
    expect(got.headers['x-forwarded-for']).toEqual(['203.0.113.7']);
    for (const name of CLIENT_IP_HEADERS.filter((h) => h !== 'x-forwarded-for')) expect(got.headers[name], name).toBeUndefined();
    expect(got.headers.cookie).toEqual([`mautic_device_id=${DEVICE}`]);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('server')).toBeNull();
    const webCookies = res.headers.getSetCookie();
    expect(webCookies.map((c) => c.split('=')[0])).toEqual(['mautic_device_id', 'mtc_id', 'mt_binding']);
    expect(webCookies.join('\n')).not.toContain('PHPSESSID');
    expect(webCookies.join('\n')).not.toMatch(/domain=/i);

    // The same hit through the Node adapter (plain-message path, node:http transport).
    const site = await listen(toNodeListener(proxy));
    try {
      const nodeRes = await fetch(`${site.url}/mt/mtc/event`, { method: 'POST', headers: spoofedHeaders(), body: FORM });
      expect(await capture.record(nodeRes)).toBe(text);
      expect(nodeRes.status).toBe(res.status);
      expect(nodeRes.headers.get('content-type')).toBe(res.headers.get('content-type'));
      expect(nodeRes.headers.get('cache-control')).toBe(res.headers.get('cache-control'));
      // Cookie attributes match except the binding's signature time.
      expect(nodeRes.headers.getSetCookie().slice(0, 2)).toEqual(webCookies.slice(0, 2));
      expect(upstream.requests[1]!.headers.cookie).toEqual(got.headers.cookie);
    } finally {
      await site.close();
    }
  });

  it('refuses a wrong content type with 415 without reading the body or calling Mautic', async () => {
    const watched = watchedBody(new TextEncoder().encode(FORM));
    const res = await proxy.handle(
      new Request('http://site.test/mt/mtc/event', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: watched.body, duplex: 'half' } as RequestInit),
      { clientIp: '203.0.113.7' },
    );
    await capture.record(res);
    expect(res.status).toBe(415);
    expect(watched.pulled()).toBe(false);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 413 for a streamed body over the limit, without calling Mautic', async () => {
    const watched = watchedBody(new Uint8Array(4096).fill(0x61), 64);
    const res = await proxy.handle(
      new Request('http://site.test/mt/mtc/event', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: watched.body,
        duplex: 'half',
      } as RequestInit),
      { clientIp: '203.0.113.7' },
    );
    await capture.record(res);
    expect(res.status).toBe(413);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 408 within timeoutMs when the body stream stalls, without calling Mautic', async () => {
    // One chunk, then the stream never ends: a client trickling (or holding) its body.
    let cancelled = false;
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('page_url=x'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const started = Date.now();
    const answer = impatient.handle(
      new Request('http://site.test/mt/mtc/event', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: stalled,
        duplex: 'half',
      } as RequestInit),
      { clientIp: '203.0.113.7' },
    );
    const res = await Promise.race([answer, new Promise<null>((resolve) => setTimeout(() => resolve(null), 6000))]);
    expect(res, 'no answer within 6 s').not.toBeNull();
    const elapsed = Date.now() - started;
    expect(res!.status).toBe(408);
    expect(JSON.parse(await capture.record(res!)).error).toBe('request_timeout');
    // impatient: timeoutMs 1000; slack for a loaded 2-core machine.
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(cancelled).toBe(true);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 504 when Mautic hangs, and sends the POST once', async () => {
    upstream.reply = () => ({ hang: true });
    const res = await impatient.handle(
      new Request('http://site.test/mt/mtc/event', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM }),
      { clientIp: '203.0.113.7' },
    );
    expect(res.status).toBe(504);
    expect(JSON.parse(await capture.record(res)).error).toBe('upstream_timeout');
    await new Promise((r) => setTimeout(r, 300));
    expect(upstream.requests).toHaveLength(1);
  });

  it('still serves the cold routes and the refusals as Web Responses', async () => {
    const script = await proxy.handle(new Request('http://site.test/mt/mtc.js'), { clientIp: '203.0.113.7' });
    expect(script.status).toBe(200);
    expect(await capture.record(script)).toBe(SCRIPT);
    const wrongMethod = await proxy.handle(new Request('http://site.test/mt/mtracking.gif', { method: 'DELETE' }), { clientIp: '203.0.113.7' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(JSON.parse(await capture.record(wrongMethod)).error).toBe('method_not_allowed');
    expect(upstream.requests).toHaveLength(0);
  });
});
