/**
 * CORS as Mautic's CORSMiddleware does it (PROTOCOL §6), in the three modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { FORM } from './standin-helpers.js';

const SITE = 'http://site.test:8080';

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

  it('answers a preflight with 204 and the allow headers when Access-Control-Request-Headers is present', async () => {
    const response = await preflight(mautic, SITE, 'x-requested-with');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-headers')).toBe('x-requested-with');
    expect(mautic.hits).toHaveLength(0);
  });

  it('answers a preflight without Access-Control-Request-Headers with a bare 204', async () => {
    const response = await preflight(mautic, SITE);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('adds origin and credentials only when the request carries X-Requested-With', async () => {
    const withHeader = await post(mautic, SITE, true);
    expect(withHeader.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(withHeader.headers.get('access-control-allow-credentials')).toBe('true');
    const without = await post(mautic, SITE, false);
    expect(without.status).toBe(200);
    expect(without.headers.get('access-control-allow-origin')).toBeNull();
    expect(without.headers.get('access-control-allow-credentials')).toBeNull();
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

  it('still answers preflights with 204 but without any allow header', async () => {
    const response = await preflight(mautic, SITE, 'x-requested-with');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('records the hit but gives the browser no CORS header to read it', async () => {
    const response = await post(mautic, SITE, true);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(mautic.hits).toHaveLength(1);
  });
});

describe('CORS with a list of origins', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ cors: [`${SITE}/`] });
  });
  afterAll(() => mautic.close());

  it('allows a listed origin', async () => {
    const pre = await preflight(mautic, SITE, 'x-requested-with');
    expect(pre.headers.get('access-control-allow-origin')).toBe(SITE);
    const response = await post(mautic, SITE, true);
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
  });

  it('refuses other origins, including another port of the same host', async () => {
    for (const origin of ['http://other.test', 'http://site.test:9090', 'https://site.test:8080']) {
      const pre = await preflight(mautic, origin, 'x-requested-with');
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const response = await post(mautic, origin, true);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
