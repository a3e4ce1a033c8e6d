/**
 * The visitor's privacy signals through the proxy, over real HTTP, in front of the Mautic
 * stand-in: `DNT: 1` and `Sec-GPC: 1` reach Mautic (Mautic 7.1+ drops such hits itself), and with
 * `privacySignals: 'answer'` the proxy answers such hits itself, with Mautic's own "not tracked"
 * answer, without any upstream call and without a cookie.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, TRACKING_PIXEL_GIF, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, MauticProxyConfigError, toNodeListener } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture();
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) RealBrowser/1.0';

let mautic: Standin;
let forwarding: Awaited<ReturnType<typeof listen>>;
let answering: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  mautic = await startStandin({});
  forwarding = await listen(toNodeListener(createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, logger: capture.logger })));
  answering = await listen(
    toNodeListener(createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, logger: capture.logger, privacySignals: 'answer' })),
  );
});
afterAll(async () => {
  await forwarding?.close();
  await answering?.close();
  await mautic?.close();
});
beforeEach(() => mautic.reset());

function event(base: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/mt/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA, ...headers },
    body: FORM,
  });
}

describe('privacySignals: forward (default)', () => {
  it('passes DNT: 1 and Sec-GPC: 1 on to Mautic with the hit', async () => {
    const res = await event(forwarding.url, { dnt: '1', 'sec-gpc': '1' });
    expect(res.status).toBe(200);
    await capture.record(res);
    expect(mautic.hits).toHaveLength(1);
    expect(mautic.hits[0]!.headers.dnt).toBe('1');
    expect(mautic.hits[0]!.headers['sec-gpc']).toBe('1');
  });

  it('passes them on the pixel and the contact-id lookup too', async () => {
    const pixel = await fetch(`${forwarding.url}/mt/mtracking.gif?page_url=x`, { headers: { dnt: '1', 'user-agent': UA } });
    await capture.record(pixel);
    const ids = await fetch(`${forwarding.url}/mt/mtc`, { headers: { 'sec-gpc': '1', 'user-agent': UA } });
    await capture.record(ids);
    const upstream = mautic.requests.filter((r) => r.path === '/mtracking.gif' || r.path === '/mtc');
    expect(upstream.map((r) => [r.path, r.headers.dnt, r.headers['sec-gpc']])).toEqual([
      ['/mtracking.gif', '1', undefined],
      ['/mtc', undefined, '1'],
    ]);
  });

  it('passes nothing when there is no signal, and only the value 1 (DNT: 0 or junk is no signal)', async () => {
    await capture.record(await event(forwarding.url));
    await capture.record(await event(forwarding.url, { dnt: '0', 'sec-gpc': 'yes please' }));
    expect(mautic.hits).toHaveLength(2);
    for (const hit of mautic.hits) {
      expect(hit.headers.dnt).toBeUndefined();
      expect(hit.headers['sec-gpc']).toBeUndefined();
    }
  });
});

describe("privacySignals: 'answer'", () => {
  it('answers a hit with DNT: 1 itself: no upstream call, Mautic’s untracked answer, no cookie', async () => {
    const res = await event(answering.url, { dnt: '1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(JSON.parse(await capture.record(res))).toEqual({ success: 1, id: 0, sid: null, device_id: null, events: [] });
    expect(mautic.requests).toHaveLength(0);
  });

  it('answers Sec-GPC: 1 on all three tracking routes without Mautic', async () => {
    const headers = { 'sec-gpc': '1', 'user-agent': UA };
    const hit = await event(answering.url, headers);
    expect(JSON.parse(await capture.record(hit))).toMatchObject({ success: 1, id: 0 });
    const pixel = await fetch(`${answering.url}/mt/mtracking.gif?page_url=x`, { headers });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await pixel.arrayBuffer()).equals(Buffer.from(TRACKING_PIXEL_GIF))).toBe(true);
    const ids = await fetch(`${answering.url}/mt/mtc`, { headers });
    expect(JSON.parse(await capture.record(ids))).toEqual({ id: 0, sid: null, device_id: null });
    expect(mautic.requests).toHaveLength(0);
    expect(mautic.contacts).toHaveLength(0);
  });

  it('relays a hit without a signal as usual', async () => {
    const res = await event(answering.url, { dnt: '0' });
    const body = JSON.parse(await capture.record(res)) as { id: number };
    expect(body.id).toBeGreaterThan(0);
    expect(mautic.hits).toHaveLength(1);
  });

  it('refuses any other value at start-up', () => {
    expect(() =>
      createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, privacySignals: 'drop' as unknown as 'answer' }),
    ).toThrow(MauticProxyConfigError);
  });
});
