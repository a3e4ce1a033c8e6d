/**
 * The relay in front of the real Mautic stand-in: what Mautic records (IP, user agent, device)
 * is what the visitor sent, never what an attacker put in headers; Mautic's cookies come back
 * first-party and keep the visitor on one contact; failures map to 502/504 without retries.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, TRACKING_PIXEL_GIF, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, loadSdkScript, toNodeListener } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F%3Futm_source%3Dnews&counter=0';

let mautic: Standin;
let site: Awaited<ReturnType<typeof listen>>;
let behindLb: Awaited<ReturnType<typeof listen>>;
/** A short upstream timeout on its own proxy, for the hang test only. */
let impatientSite: Awaited<ReturnType<typeof listen>>;
let script: Uint8Array;

beforeAll(async () => {
  mautic = await startStandin({});
  script = await loadSdkScript('dist/mtc.js');
  const proxy = createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, script, logger: capture.logger });
  site = await listen(toNodeListener(proxy));
  const impatient = createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, logger: capture.logger, timeoutMs: 1000 });
  impatientSite = await listen(toNodeListener(impatient));
  behindLb = await listen(toNodeListener(proxy, { trustedHops: 1 }));
});
afterAll(async () => {
  await site?.close();
  await behindLb?.close();
  await impatientSite?.close();
  await mautic?.close();
});
beforeEach(() => {
  mautic.reset();
});

function hit(base: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: FORM });
}

describe('relay → stand-in', () => {
  it('Mautic records the socket IP and the real user agent, whatever IP headers the client sends', async () => {
    const res = await hit(site.url, {
      'x-forwarded-for': '6.6.6.6',
      'client-ip': '6.6.6.7',
      'x-real-ip': '6.6.6.8',
      forwarded: 'for=6.6.6.9',
      'x-cluster-client-ip': '6.6.6.10',
      'forwarded-for': '6.6.6.11',
      'x-forwarded': 'for=6.6.6.12',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) RealBrowser/1.0',
    });
    expect(res.status).toBe(200);
    await capture.record(res);
    expect(mautic.hits).toHaveLength(1);
    const recorded = mautic.hits[0]!;
    expect(recorded.ip).toBe('127.0.0.1');
    expect(recorded.userAgent).toBe('Mozilla/5.0 (X11; Linux x86_64) RealBrowser/1.0');
    expect(recorded.rawBody).toBe(FORM);
    expect(recorded.query.utm_source).toBe('news');
    for (const h of ['client-ip', 'x-real-ip', 'forwarded', 'x-cluster-client-ip', 'forwarded-for', 'x-forwarded']) {
      expect(recorded.headers[h], h).toBeUndefined();
    }
  });

  it('behind one trusted load balancer, Mautic records the address the balancer saw', async () => {
    const res = await hit(behindLb.url, { 'x-forwarded-for': '6.6.6.6, 192.0.2.44' });
    await capture.record(res);
    expect(mautic.hits[0]!.ip).toBe('192.0.2.44');
  });

  it('the rewritten first-party device cookie keeps the visitor on one contact', async () => {
    const first = await hit(site.url);
    const body = JSON.parse(await capture.record(first)) as { id: number; device_id: string };
    const cookies = first.headers.getSetCookie();
    const device = cookies.find((c) => c.startsWith('mautic_device_id='))!;
    expect(device).not.toMatch(/SameSite=None|Secure|Domain/i);
    expect(device).toMatch(/SameSite=Lax/);
    expect(cookies.map((c) => c.split('=')[0]).sort()).toEqual(['mautic_device_id', 'mt_binding', 'mtc_id']);
    const cookieHeader = cookies.map((c) => c.split(';')[0]).join('; ');
    const second = await hit(site.url, { cookie: cookieHeader });
    const again = JSON.parse(await capture.record(second)) as { id: number; device_id: string };
    expect(again.id).toBe(body.id);
    expect(mautic.contacts).toHaveLength(1);
    expect(mautic.hits.map((h) => h.contactId)).toEqual([body.id, body.id]);
  });

  it('the pixel comes back byte-identical and is recorded with its query', async () => {
    const res = await fetch(`${site.url}/mt/mtracking.gif?${FORM}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(TRACKING_PIXEL_GIF))).toBe(true);
    expect(mautic.hits[0]).toMatchObject({ via: 'pixel', rawQuery: FORM, ip: '127.0.0.1' });
  });

  it('contact ids come back for the device', async () => {
    const first = await hit(site.url);
    const body = JSON.parse(await capture.record(first)) as { id: number; device_id: string };
    const res = await fetch(`${site.url}/mt/mtc?mautic_device_id=${body.device_id}`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(JSON.parse(await capture.record(res))).toMatchObject({ id: body.id, device_id: body.device_id });
  });

  it('a hanging Mautic gives 504, a refused connection 502, each with exactly one upstream request', async () => {
    mautic.inject({ route: 'event', hang: true, times: 1 });
    const hung = await hit(impatientSite.url);
    expect(hung.status).toBe(504);
    await capture.record(hung);
    mautic.inject({ route: 'event', refuse: true, times: 1 });
    const refused = await hit(site.url);
    expect(refused.status).toBe(502);
    await capture.record(refused);
    expect(mautic.requests.filter((r) => r.path === '/mtc/event')).toHaveLength(2);
    expect(mautic.hits).toHaveLength(0);
  });

  it('serves dist/mtc.js, loaded by loadSdkScript, without asking Mautic', async () => {
    const res = await fetch(`${site.url}/mt/mtc.js`);
    expect(res.status).toBe(200);
    // Compared with what loadSdkScript read (another helper may rebuild dist/ meanwhile).
    expect(script.byteLength).toBeGreaterThan(100);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(script))).toBe(true);
    expect(res.headers.get('etag')).toMatch(/^"/);
    expect(mautic.requests).toHaveLength(0);
  });
});

describe('identity claims in hits, against a Mautic whose email is publicly updatable (issue 12, finding 4)', () => {
  const CLAIM = 'ceo@example.com';
  let claimable: Standin;
  let policySite: Awaited<ReturnType<typeof listen>>;
  let passingSite: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    claimable = await startStandin({ publiclyUpdatableFields: ['email'] });
    policySite = await listen(toNodeListener(createMauticProxy({ mauticUrl: claimable.url, secret: SECRET, logger: capture.logger })));
    passingSite = await listen(
      toNodeListener(createMauticProxy({ mauticUrl: claimable.url, secret: SECRET, logger: capture.logger, passIdentityParams: true })),
    );
  });
  afterAll(async () => {
    await policySite?.close();
    await passingSite?.close();
    await claimable?.close();
  });

  /** A fresh browser's hit through `base` claiming the CEO's email in the body or in page_url; the contact Mautic answered. */
  async function claim(base: string, where: 'body' | 'page_url'): Promise<number> {
    const pageUrl = where === 'page_url' ? `http://site.test/?email=${encodeURIComponent(CLAIM)}` : 'http://site.test/';
    const body = new URLSearchParams({ page_url: pageUrl, page_title: 'Home', ...(where === 'body' ? { email: CLAIM } : {}) });
    const res = await fetch(`${base}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    expect(res.status).toBe(200);
    return (JSON.parse(await capture.record(res)) as { id: number }).id;
  }

  it('a browser cannot become the contact of an email it names: its hits stay on a new anonymous contact', async () => {
    claimable.reset();
    // The CEO, known to Mautic (a hit straight to Mautic names the publicly updatable email).
    const direct = await fetch(`${claimable.url}/mtc/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ page_url: 'http://site.test/', email: CLAIM }).toString(),
    });
    const ceo = (JSON.parse(await direct.text()) as { id: number }).id;
    expect(claimable.contact(ceo)?.fields.email).toBe(CLAIM);

    for (const where of ['body', 'page_url'] as const) {
      const id = await claim(policySite.url, where);
      expect(id, where).not.toBe(ceo);
      expect(claimable.contact(id)?.fields.email, where).toBeUndefined();
    }
    expect(claimable.hits.filter((hit) => hit.contactId === ceo)).toHaveLength(1);

    // The same hits through a proxy that passes identity parameters on do claim the CEO: the
    // policy, not the setup, is what keeps them out.
    for (const where of ['body', 'page_url'] as const) expect(await claim(passingSite.url, where), where).toBe(ceo);
  });
});
