/**
 * Failure injection: status, delay, hang (ended by close), refuse, times, per route.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { postHit } from './standin-helpers.js';

describe('stand-in failure injection', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin();
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('answers an injected status on the chosen route only, for `times` requests', async () => {
    mautic.inject({ route: 'event', status: 500, times: 1 });
    const pixel = await fetch(`${mautic.url}/mtracking.gif?page_url=x`);
    expect(pixel.status).toBe(200);
    const failed = await postHit(mautic, { page_url: 'http://site.test/' });
    expect(failed.status).toBe(500);
    const next = await postHit(mautic, { page_url: 'http://site.test/' });
    expect(next.status).toBe(200);
    // The failed POST was received and recorded as a request, but it is no hit.
    expect(mautic.requests.filter((r) => r.route === 'event')).toHaveLength(2);
    expect(mautic.hits.filter((h) => h.via === 'post')).toHaveLength(1);
  });

  it('keeps failing until cleared when no `times` is given', async () => {
    mautic.inject({ route: 'ids', status: 503 });
    expect((await fetch(`${mautic.url}/mtc`)).status).toBe(503);
    expect((await fetch(`${mautic.url}/mtc`)).status).toBe(503);
    mautic.clearInjections();
    expect((await fetch(`${mautic.url}/mtc`)).status).toBe(200);
  });

  it('keeps CORS headers on an injected status so the browser can see the failure', async () => {
    mautic.inject({ route: 'event', status: 500, times: 1 });
    const response = await postHit(mautic, { page_url: 'x' }, { Origin: 'http://site.test' });
    expect(response.status).toBe(500);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://site.test');
  });

  it('never applies to preflights, so `times: 1` hits the real request', async () => {
    mautic.inject({ route: 'event', status: 500, times: 1 });
    const pre = await fetch(`${mautic.url}/mtc/event`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://site.test', 'Access-Control-Request-Headers': 'x-requested-with' },
    });
    expect(pre.status).toBe(204);
    expect((await postHit(mautic, { page_url: 'x' })).status).toBe(500);
  });

  it('delays the real answer by delayMs', async () => {
    mautic.inject({ route: 'event', delayMs: 300, times: 1 });
    const started = Date.now();
    const response = await postHit(mautic, { page_url: 'x' });
    expect(response.status).toBe(200);
    // A lower bound only: the delay must have happened (no upper bound on a loaded machine).
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(mautic.hits).toHaveLength(1);
  });

  it('refuses: the client sees a network error, not a response', async () => {
    mautic.inject({ route: 'pixel', refuse: true, times: 1 });
    await expect(fetch(`${mautic.url}/mtracking.gif?page_url=x`)).rejects.toThrow(TypeError);
    expect(mautic.hits).toHaveLength(0);
    expect((await fetch(`${mautic.url}/mtracking.gif?page_url=x`)).status).toBe(200);
  });

  it("route 'any' affects every route, including the API", async () => {
    mautic.inject({ route: 'any', status: 502, times: 2 });
    expect((await fetch(`${mautic.url}/mtc.js`)).status).toBe(502);
    const api = await fetch(`${mautic.url}/api/contacts/1`);
    expect(api.status).toBe(502);
    expect(await api.json()).toEqual({
      errors: [{ code: 502, message: 'Injected failure (502).', details: [] }],
    });
  });

  it('validates its options', () => {
    expect(() => mautic.inject({ status: 42 })).toThrow(RangeError);
    expect(() => mautic.inject({ times: 0 })).toThrow(RangeError);
    expect(() => mautic.inject({ delayMs: -1 })).toThrow(RangeError);
  });
});

describe('stand-in hang and close', () => {
  it('a hanging request is ended by close(), which resolves', async () => {
    const mautic = await startStandin();
    mautic.inject({ route: 'event', hang: true });
    const pending = postHit(mautic, { page_url: 'x' }).then(
      () => 'answered',
      () => 'network error',
    );
    await mautic.waitFor((state) => state.requests.some((r) => r.route === 'event'), 10_000);
    const raced = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('still pending'), 200))]);
    expect(raced).toBe('still pending');
    await mautic.close();
    expect(await pending).toBe('network error');
  });

  it('close() also cancels a pending delay and ends keep-alive sockets', async () => {
    const mautic = await startStandin();
    await fetch(`${mautic.url}/mtc`); // leaves a keep-alive socket open
    mautic.inject({ route: 'event', delayMs: 60_000 });
    const pending = postHit(mautic, { page_url: 'x' }).then(
      () => 'answered',
      () => 'network error',
    );
    await mautic.waitFor((state) => state.requests.some((r) => r.route === 'event'), 10_000);
    await mautic.close();
    expect(await pending).toBe('network error');
    expect(mautic.hits).toHaveLength(0);
  });
});
