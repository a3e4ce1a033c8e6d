/**
 * Hit ids through the proxy, over real HTTP to the Mautic stand-in: a hit retried with the same
 * `mt_hit_id` is recorded once and the retry gets the first answer's ids (also when the retry
 * arrives while the first is still with Mautic, or after the browser gave up on the first); a
 * failed first attempt lets the retry through; malformed ids are stripped and the hit still
 * counts; Mautic never sees the parameter; a failing store costs no hit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, MemoryStore, toNodeListener, type ProxyStore } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';
const HIT_ID = 'k3j9x0c1m2n4b5v6z7a8s9d0';

let mautic: Standin;
let store: MemoryStore;
let site: Awaited<ReturnType<typeof listen>>;
let seq = 0;

beforeAll(async () => {
  mautic = await startStandin({});
  store = new MemoryStore();
  site = await listen(toNodeListener(createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, store, logger: capture.logger, timeoutMs: 3000 })));
});
afterAll(async () => {
  await site?.close();
  await mautic?.close();
});
beforeEach(() => {
  mautic.reset();
});

/** A fresh valid hit id per test (the store outlives `mautic.reset()`). */
const freshId = (): string => `${HIT_ID}${(seq++).toString(36)}`;

async function post(body: string, opts: { base?: string; signal?: AbortSignal } = {}): Promise<{ status: number; json: Record<string, unknown>; cookies: string[] }> {
  const res = await fetch(`${opts.base ?? site.url}/mt/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await capture.record(res);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, cookies: res.headers.getSetCookie() };
}

const idsOf = (json: Record<string, unknown>): unknown[] => [json.id, json.device_id];

describe('a hit retried with its mt_hit_id', () => {
  it('is recorded once; the retry gets the first answer (same contact, device and cookies); Mautic never sees the id', async () => {
    const id = freshId();
    const first = await post(`${FORM}&mt_hit_id=${id}`);
    const retry = await post(`mt_hit_id=${id}&${FORM}`);
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(mautic.hits).toHaveLength(1);
    expect(idsOf(retry.json)).toEqual(idsOf(first.json));
    expect(typeof first.json.id).toBe('number');
    // Mautic's cookies as the first time; the binding cookie too (signed again, so only its name is compared).
    const pairs = (cookies: string[]): string[] => cookies.map((c) => c.split(';')[0]!).map((p) => (p.startsWith('mt_binding=') ? 'mt_binding' : p));
    expect(pairs(retry.cookies)).toEqual(pairs(first.cookies));
    expect(pairs(first.cookies)).toEqual(expect.arrayContaining([`mautic_device_id=${String(first.json.device_id)}`, `mtc_id=${String(first.json.id)}`, 'mt_binding']));
    expect(mautic.hits[0]!.rawBody).toBe(FORM);
    // Another hit (another id) of the same page view is a new hit.
    expect((await post(`${FORM}&mt_hit_id=${freshId()}`)).status).toBe(200);
    expect(mautic.hits).toHaveLength(2);
  });

  it('the pixel: recorded once, the id stripped from the query Mautic gets', async () => {
    const id = freshId();
    const query = `page_title=Pixel&page_url=http%3A%2F%2Fsite.test%2Fp&mt_hit_id=${id}`;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${site.url}/mt/mtracking.gif?${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      await res.arrayBuffer();
    }
    expect(mautic.hits).toHaveLength(1);
    expect(mautic.hits[0]!.rawQuery).toBe('page_title=Pixel&page_url=http%3A%2F%2Fsite.test%2Fp');
  });

  it('a retry that arrives while the first is still with Mautic waits for it and gets its answer', async () => {
    const id = freshId();
    mautic.inject({ route: 'event', delayMs: 600, times: 1 });
    const firstP = post(`${FORM}&mt_hit_id=${id}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const retry = await post(`${FORM}&mt_hit_id=${id}`);
    const first = await firstP;
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(mautic.hits).toHaveLength(1);
    expect(idsOf(retry.json)).toEqual(idsOf(first.json));
  });

  it('after the browser gave up on the first (its answer never arrived), the retry is answered from the store', async () => {
    const id = freshId();
    mautic.inject({ route: 'event', delayMs: 500, times: 1 });
    // The browser gives up once the first is with Mautic (a fixed 150 ms could end it before it
    // even reached the proxy on a loaded machine, and then Mautic never records it).
    const giveUp = new AbortController();
    const first = post(`${FORM}&mt_hit_id=${id}`, { signal: giveUp.signal });
    await mautic.waitFor((s) => s.requests.some((r) => r.method === 'POST' && r.path === '/mtc/event'), 5000);
    giveUp.abort();
    await expect(first).rejects.toThrow();
    await mautic.waitFor((s) => s.hits.length === 1, 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retry = await post(`${FORM}&mt_hit_id=${id}`);
    expect(retry.status).toBe(200);
    expect(mautic.hits).toHaveLength(1);
    expect(retry.json.id).toBe(mautic.hits[0]!.contactId);
    expect(retry.json.device_id).toBe(mautic.hits[0]!.deviceId);
  });

  it('a first attempt that failed (Mautic 500, or unreachable) lets the retry through, recorded once', async () => {
    const id = freshId();
    mautic.inject({ route: 'event', status: 500, times: 1 });
    expect((await post(`${FORM}&mt_hit_id=${id}`)).status).toBe(502);
    expect(mautic.hits).toHaveLength(0);
    const retry = await post(`${FORM}&mt_hit_id=${id}`);
    expect(retry.status).toBe(200);
    expect(mautic.hits).toHaveLength(1);
    expect((await post(`${FORM}&mt_hit_id=${id}`)).status).toBe(200);
    expect(mautic.hits).toHaveLength(1);

    const refused = freshId();
    mautic.inject({ route: 'event', refuse: true, times: 1 });
    expect((await post(`${FORM}&mt_hit_id=${refused}`)).status).toBe(502);
    expect((await post(`${FORM}&mt_hit_id=${refused}`)).status).toBe(200);
    expect(mautic.hits).toHaveLength(2);
  });
});

describe('malformed hit ids', () => {
  it('are stripped and the hit still counts, every time (no exactly-once without a valid id)', async () => {
    const valid = freshId();
    const bodies = [
      `${FORM}&mt_hit_id=short`,
      `${FORM}&mt_hit_id=${'A'.repeat(20)}`,
      `${FORM}&mt_hit_id=${'x'.repeat(65)}`,
      `${FORM}&mt_hit_id=`,
      `${FORM}&mt_hit_id`,
      `${FORM}&mt_hit_id=${valid}&mt_hit_id=${valid}`,
      `${FORM}&mt.hit.id=${valid}`,
      `${FORM}&mt%5Fhit%5Fid=${valid}`,
      `${FORM}&mt_hit_id[]=${valid}`,
    ];
    for (const body of [...bodies, ...bodies]) expect((await post(body)).status, body).toBe(200);
    expect(mautic.hits).toHaveLength(bodies.length * 2);
    for (const hit of mautic.hits) expect(hit.rawBody).toBe(FORM);
  });
});

describe('the store failing', () => {
  it('costs no hit: relayed without exactly-once, with a warning', async () => {
    const broken: ProxyStore = {
      increment: () => Promise.reject(new Error('down')),
      setIfAbsent: () => Promise.reject(new Error('down')),
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
    };
    const s = await listen(toNodeListener(createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, store: broken, logger: capture.logger })));
    try {
      const id = freshId();
      expect((await post(`${FORM}&mt_hit_id=${id}`, { base: s.url })).status).toBe(200);
      expect((await post(`${FORM}&mt_hit_id=${id}`, { base: s.url })).status).toBe(200);
      expect(mautic.hits).toHaveLength(2);
      expect(mautic.hits[0]!.rawBody).toBe(FORM);
      expect(capture.lines.some((l) => l.includes('relayed without exactly-once'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('a claim left pending by an instance that died answers 503 hit_in_flight, then expires and the retry goes through', async () => {
    const shared = new MemoryStore();
    const s = await listen(toNodeListener(createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, store: shared, logger: capture.logger, timeoutMs: 500 })));
    try {
      const id = freshId();
      // What an instance leaves behind when it dies with the hit at Mautic: a pending claim (it lives timeoutMs + 2 s).
      await shared.setIfAbsent(`mt:hit:${id}`, 'pending', 1200);
      const started = Date.now();
      const res = await fetch(`${s.url}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${FORM}&mt_hit_id=${id}` });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(JSON.parse(await capture.record(res))).toMatchObject({ error: 'hit_in_flight' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(mautic.hits).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect((await post(`${FORM}&mt_hit_id=${id}`, { base: s.url })).status).toBe(200);
      expect(mautic.hits).toHaveLength(1);
    } finally {
      await s.close();
    }
  });
});
