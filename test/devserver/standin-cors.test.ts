/**
 * CORS as Mautic 5.1's CORSMiddleware does it (docs/protocol.md §6; options_preflight_*, track_event_*),
 * in the three modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { FORM } from './standin-helpers.js';

const SITE = 'http://site.test:8080';

/** Mautic's fixed lists, whatever the browser asked for. */
const FIXED = {
  'access-control-allow-headers': 'Origin, X-Requested-With, Content-Type, Authorization',
  'access-control-allow-methods': 'PUT, GET, POST, DELETE, OPTIONS',
  'access-control-allow-credentials': 'true',
  'access-control-max-age': '36000',
};
const CORS_HEADERS = ['access-control-allow-origin', ...Object.keys(FIXED)];

function corsHeaders(response: Response): Record<string, string | null> {
  return Object.fromEntries(CORS_HEADERS.map((name) => [name, response.headers.get(name)]));
}

const NO_CORS = Object.fromEntries(CORS_HEADERS.map((name) => [name, null]));

function expectBarePreflight(response: Response): void {
  expect(response.status).toBe(204);
  expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
  expect(response.headers.get('cache-control')).toBe('no-cache, private');
  expect(corsHeaders(response)).toEqual(NO_CORS);
}

function preflight(mautic: Standin, origin: string, requestHeaders?: string): Promise<Response> {
  const headers: Record<string, string> = { Origin: origin, 'Access-Control-Request-Method': 'POST' };
  if (requestHeaders) headers['Access-Control-Request-Headers'] = requestHeaders;
  return fetch(`${mautic.url}/mtc/event`, { method: 'OPTIONS', headers });
}

function post(mautic: Standin, origin: string, withRequestedWith: boolean): Promise<Response> {
  const headers: Record<string, string> = { Origin: origin, 'Content-Type': FORM };
  if (withRequestedWith) headers['X-Requested-With'] = 'XMLHttpRequest';
  return fetch(`${mautic.url}/mtc/event`, { method: 'POST', headers, body: 'page_url=x' });
}

describe("CORS mode 'any' (default)", () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin();
  });
  afterAll(() => mautic.close());

  it('answers a preflight with 204 text/html and the FIXED allow lists, not the requested headers', async () => {
    const response = await preflight(mautic, SITE, 'x-requested-with,content-type,x-custom');
    expect(response.status).toBe(204);
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, private');
    expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': SITE, ...FIXED });
    expect(response.headers.get('vary')).toBeNull();
    expect(await response.text()).toBe('');
    expect(mautic.hits).toHaveLength(0);
  });

  it('answers a preflight without Access-Control-Request-Headers (or without Origin) with a bare 204', async () => {
    // options_preflight_api
    expectBarePreflight(await preflight(mautic, SITE));
    expectBarePreflight(
      await fetch(`${mautic.url}/api/contacts`, { method: 'OPTIONS', headers: { Origin: SITE, 'Access-Control-Request-Method': 'GET' } }),
    );
    expectBarePreflight(
      await fetch(`${mautic.url}/mtc/event`, { method: 'OPTIONS', headers: { 'Access-Control-Request-Headers': 'x-requested-with' } }),
    );
  });

  it('adds the CORS headers only when the request carries X-Requested-With', async () => {
    const withHeader = await post(mautic, SITE, true);
    expect(corsHeaders(withHeader)).toEqual({ 'access-control-allow-origin': SITE, ...FIXED });
    const without = await post(mautic, SITE, false);
    expect(without.status).toBe(200);
    expect(corsHeaders(without)).toEqual(NO_CORS);
  });

  it('answers X-Requested-With without an Origin with an empty allowed origin', async () => {
    // track_event_legacy_session_cookie_claims_A, track_event_bot_ua: no Origin → "".
    const response = await fetch(`${mautic.url}/mtc/event`, {
      method: 'POST',
      headers: { 'Content-Type': FORM, 'X-Requested-With': 'XMLHttpRequest' },
      body: 'page_url=x',
    });
    expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': '', ...FIXED });
  });

  it('never answers with a wildcard origin', async () => {
    const response = await post(mautic, 'http://other.test', true);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://other.test');
  });
});

describe("CORS mode 'restrictive' (a fresh Mautic install)", () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ cors: 'restrictive' });
  });
  afterAll(() => mautic.close());

  it('still answers preflights with 204 text/html but without any CORS header', async () => {
    expectBarePreflight(await preflight(mautic, SITE, 'x-requested-with'));
  });

  it('records the hit but answers it with an empty allowed origin, which no browser lets the page read', async () => {
    const response = await post(mautic, SITE, true);
    expect(response.status).toBe(200);
    expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': '', ...FIXED });
    expect(mautic.hits).toHaveLength(1);
    expect(mautic.hits[0]?.outcome).toBe('tracked');
  });
});

describe('CORS with a list of origins', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ cors: [`${SITE}/`] });
  });
  afterAll(() => mautic.close());

  it('allows a listed origin', async () => {
    // options_preflight_allowed_origin
    const pre = await preflight(mautic, SITE, 'x-requested-with,content-type');
    expect(corsHeaders(pre)).toEqual({ 'access-control-allow-origin': SITE, ...FIXED });
    const response = await post(mautic, SITE, true);
    expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': SITE, ...FIXED });
  });

  it('refuses other origins, including another port of the same host, but still tracks them', async () => {
    // options_preflight_refused_origin, track_event_disallowed_origin
    const origins = ['http://other.test', 'http://site.test:9090', 'https://site.test:8080'];
    for (const origin of origins) {
      expectBarePreflight(await preflight(mautic, origin, 'x-requested-with'));
      const response = await post(mautic, origin, true);
      expect(response.status).toBe(200);
      expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': '', ...FIXED });
      expect(((await response.json()) as { id: number }).id).toBeGreaterThan(0);
    }
    expect(mautic.hits.slice(-origins.length).map((hit) => hit.outcome)).toEqual(origins.map(() => 'tracked'));
  });
});
