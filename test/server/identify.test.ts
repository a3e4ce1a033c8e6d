/**
 * `POST {base}/identify` and `proxy.identify()` over real HTTP: browser-ish client → proxy
 * (Node adapter) → the real Mautic stand-in with OAuth2. Every rejected request is checked to
 * make no API call at all (not even a token request).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, mintIdentityToken, toNodeListener, type MauticProxy } from '../../src/server/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const ORIGIN = 'http://site.test';
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';

let mautic: Standin;
let proxy: MauticProxy;
let site: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  mautic = await startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } });
  proxy = createMauticProxy({
    mauticUrl: mautic.url,
    basePath: '/mt',
    secret: SECRET,
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    identify: { tokenSecret: TOKEN_SECRET, allowedFields: ['firstname', 'lastname'], allowedOrigins: [ORIGIN], rateLimit: { max: 1000 } },
    logger: capture.logger,
  });
  site = await listen(toNodeListener(proxy));
});
afterAll(async () => {
  await site?.close();
  await mautic?.close();
});
beforeEach(() => {
  mautic.reset();
});

const apiRequests = (): number => mautic.requests.filter((r) => r.path.startsWith('/api') || r.path.startsWith('/oauth')).length;

async function token(email: string, opts: { ttlSeconds?: number; now?: number; secret?: string } = {}): Promise<string> {
  const t = await mintIdentityToken({ email, secret: opts.secret ?? TOKEN_SECRET, ttlSeconds: opts.ttlSeconds, now: opts.now });
  capture.sensitive.add(t);
  return t;
}

async function identify(
  body: unknown,
  opts: { cookie?: string; origin?: string | null; contentType?: string; url?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; cookies: string[]; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  if (opts.cookie) headers.cookie = opts.cookie;
  const res = await fetch(opts.url ?? `${site.url}/mt/identify`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await capture.record(res);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // non-JSON stays {}
  }
  const cookies = res.headers.getSetCookie();
  for (const c of cookies) capture.sensitive.add(c.split(';')[0]!.split('=').slice(1).join('='));
  return { status: res.status, json, cookies, headers: res.headers };
}

/** A pageview through the proxy; returns the binding cookie pair and the ids Mautic gave. */
async function pageview(cookie = ''): Promise<{ binding: string; id: number; deviceId: string }> {
  const res = await fetch(`${site.url}/mt/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: FORM,
  });
  const json = JSON.parse(await capture.record(res)) as { id: number; device_id: string };
  const binding = res.headers.getSetCookie().find((c) => c.startsWith('mt_binding='))!.split(';')[0]!;
  capture.sensitive.add(binding.slice('mt_binding='.length));
  return { binding, id: json.id, deviceId: json.device_id };
}

function bindingCookie(setCookies: string[]): string {
  const c = setCookies.find((x) => x.startsWith('mt_binding='));
  expect(c, 'binding cookie').toBeDefined();
  expect(c).toMatch(/; Path=\/mt; Max-Age=\d+; SameSite=Lax; HttpOnly$/);
  return c!.split(';')[0]!;
}

describe('identify with a binding', () => {
  it('PATCHes the bound contact, Mautic merges the known contact into it, and earlier hits now belong to the identified contact', async () => {
    const existing = await proxy.rest!.createOrUpdateContact({ email: 'jane@example.com', lastname: 'Known' });
    const visit = await pageview();
    expect(visit.id).not.toBe(existing.contact.id);
    const before = mautic.requests.length;

    const res = await identify(
      { email: 'jane@example.com', fields: { firstname: 'Jane', company: 'Acme', points: 500 }, token: await token('jane@example.com') },
      { cookie: visit.binding },
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, ignoredFields: ['company', 'points'] });
    expect(res.cookies).toEqual([]); // binding unchanged
    const calls = mautic.requests.slice(before).filter((r) => r.path.startsWith('/api'));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/contacts/${visit.id}`, `PATCH /api/contacts/${visit.id}/edit`]);
    expect(JSON.parse(calls[1]!.body)).toEqual({ firstname: 'Jane', email: 'jane@example.com' });
    const contact = mautic.contact(visit.id)!;
    expect(contact.fields).toMatchObject({ email: 'jane@example.com', firstname: 'Jane', lastname: 'Known' });
    expect(contact.mergedFrom).toContain(existing.contact.id);
    expect(contact.points).toBe(0);
    expect(mautic.hits.every((h) => h.contactId === visit.id)).toBe(true);
  });

  it('without a binding: POST new, then binds; the next identify PATCHes that contact', async () => {
    const first = await identify({ email: 'new@example.com', fields: { firstname: 'Nia' }, token: await token('new@example.com') });
    expect(first.status).toBe(200);
    const binding = bindingCookie(first.cookies);
    const created = mautic.contacts.find((c) => c.fields.email === 'new@example.com')!;
    expect(created.fields.firstname).toBe('Nia');
    expect(binding).toMatch(new RegExp(`^mt_binding=v1\\.${created.id}\\.\\.`));
    const before = mautic.requests.length;
    const second = await identify({ email: 'new@example.com', fields: { lastname: 'Ng' }, token: await token('new@example.com') }, { cookie: binding });
    expect(second.status).toBe(200);
    expect(mautic.requests.slice(before).filter((r) => r.path.startsWith('/api')).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/contacts/${created.id}`,
      `PATCH /api/contacts/${created.id}/edit`,
    ]);
    expect(mautic.contact(created.id)!.fields).toMatchObject({ firstname: 'Nia', lastname: 'Ng' });
  });

  it('falls back to POST new when the bound contact no longer exists', async () => {
    // Contacts first, so the visitor's id is not reused by the new contact even if ids restart.
    for (const n of [1, 2, 3]) await proxy.rest!.createOrUpdateContact({ email: `filler${n}@example.com` });
    const visit = await pageview();
    mautic.reset(); // the bound contact is gone (and so is the proxy's OAuth token)
    const res = await identify({ email: 'gone@example.com', token: await token('gone@example.com') }, { cookie: visit.binding });
    expect(res.status).toBe(200);
    // The reset also dropped the proxy's OAuth token: the GET may be repeated once after a token
    // re-fetch (401 invalid_grant), then the 404 leads to create-by-email.
    const calls = mautic.requests.filter((r) => r.path.startsWith('/api')).map((r) => `${r.method} ${r.path}`);
    expect(calls.filter((c, i) => c !== calls[i - 1])).toEqual([`GET /api/contacts/${visit.id}`, 'POST /api/contacts/new']);
    const id = mautic.contacts.find((c) => c.fields.email === 'gone@example.com')!.id;
    expect(id).not.toBe(visit.id);
    expect(bindingCookie(res.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${id}\\.${visit.deviceId}\\.`));
  });
});

describe('a shared browser', () => {
  it('never merges two identified people: a bound contact with another email is left alone', async () => {
    const visit = await pageview();
    const a = await identify({ email: 'alice@example.com', token: await token('alice@example.com') }, { cookie: visit.binding });
    expect(a.status).toBe(200);
    expect(mautic.contact(visit.id)!.fields.email).toBe('alice@example.com');
    const b = await identify({ email: 'bob@example.com', token: await token('bob@example.com') }, { cookie: visit.binding });
    expect(b.status).toBe(200);
    const bob = mautic.contacts.find((c) => c.fields.email === 'bob@example.com')!;
    expect(bob.id).not.toBe(visit.id);
    expect(mautic.contact(visit.id)!.fields.email).toBe('alice@example.com');
    expect(mautic.contact(visit.id)!.mergedFrom).toEqual([]);
    expect(bindingCookie(b.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${bob.id}\\.${visit.deviceId}\\.`));
  });
});

describe('forged and tampered bindings are never trusted', () => {
  it('ignores a forged signature, a tampered contact id, a browser mtc_id and a contactId in the body', async () => {
    const victim = await proxy.rest!.createOrUpdateContact({ email: 'victim@example.com' });
    const visit = await pageview();
    const [, , device, iat, sig] = visit.binding.slice('mt_binding='.length).split('.');
    const forgedCookies = [
      `mt_binding=v1.${victim.contact.id}.${device}.${iat}.${'A'.repeat(43)}`,
      `mt_binding=v1.${victim.contact.id}.${device}.${iat}.${sig}`,
      `mt_binding=v1.${visit.id}.${device}.${Number(iat) + 1}.${sig}`,
      `mt_binding=v2.${visit.id}.${device}.${iat}.${sig}`,
      `mt_binding=${'x'.repeat(5000)}`,
      `mtc_id=${victim.contact.id}; mautic_device_id=${device}`,
    ];
    for (const cookie of forgedCookies) {
      const before = mautic.requests.length;
      const res = await identify({ email: 'attacker@example.com', token: await token('attacker@example.com'), contactId: victim.contact.id }, { cookie });
      expect(res.status, cookie.slice(0, 40)).toBe(200);
      const calls = mautic.requests.slice(before).filter((r) => r.path.startsWith('/api')).map((r) => `${r.method} ${r.path}`);
      expect(calls, cookie.slice(0, 40)).toEqual(['POST /api/contacts/new']);
    }
    expect(mautic.contact(victim.contact.id)!.fields.email).toBe('victim@example.com');
    expect(mautic.contact(victim.contact.id)!.mergedFrom).toEqual([]);
  });
});

describe('token mode rejects bad tokens with 401 and no API call', () => {
  it('missing, malformed, wrong secret, other email, expired', async () => {
    const cases: Array<[unknown, string]> = [
      [{ email: 'jane@example.com' }, 'token_required'],
      [{ email: 'jane@example.com', token: '' }, 'token_required'],
      [{ email: 'jane@example.com', token: 42 }, 'token_required'],
      [{ email: 'jane@example.com', token: 'abc' }, 'invalid_token'],
      [{ email: 'jane@example.com', token: await token('jane@example.com', { secret: 'another-secret-of-sufficient-length-000' }) }, 'invalid_token'],
      [{ email: 'jane@example.com', token: await token('mallory@example.com') }, 'invalid_token'],
      [{ email: 'jane@example.com', token: await token('jane@example.com', { ttlSeconds: 60, now: Date.now() - 3_600_000 }) }, 'token_expired'],
    ];
    for (const [body, code] of cases) {
      const res = await identify(body);
      expect(res.status, code).toBe(401);
      expect(res.json.error).toBe(code);
    }
    expect(apiRequests()).toBe(0);
  });

  it('accepts the token for the same email in another case', async () => {
    const res = await identify({ email: 'Jane@Example.com', token: await token('jane@example.com') });
    expect(res.status).toBe(200);
  });
});

describe('request checks: each a clear 4xx and no API call', () => {
  it('refuses foreign or missing Origin with 403', async () => {
    const t = await token('jane@example.com');
    for (const origin of [null, 'http://evil.test', 'null', 'http://site.test:8080', 'https://site.test']) {
      const res = await identify({ email: 'jane@example.com', token: t }, { origin });
      expect(res.status, String(origin)).toBe(403);
      expect(res.json.error).toBe('forbidden_origin');
    }
    expect(apiRequests()).toBe(0);
  });

  it('requires JSON (415)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await identify('{"email":"jane@example.com"}', { contentType: type });
      expect(res.status, type).toBe(415);
    }
    expect(apiRequests()).toBe(0);
  });

  it('limits the body (413) and rejects malformed JSON, bad emails and bad fields (400)', async () => {
    const t = await token('jane@example.com');
    const big = await identify({ email: 'jane@example.com', token: t, fields: { firstname: 'x'.repeat(20_000) } });
    expect(big.status).toBe(413);
    const cases: Array<[string, string]> = [
      ['{"email":', 'invalid_json'],
      ['[1,2]', 'invalid_json'],
      ['null', 'invalid_json'],
      ['"jane@example.com"', 'invalid_json'],
      [JSON.stringify({ email: 'not-an-email', token: t }), 'invalid_email'],
      [JSON.stringify({ email: 'a b@example.com', token: t }), 'invalid_email'],
      [JSON.stringify({ email: `${'a'.repeat(250)}@example.com`, token: t }), 'invalid_email'],
      [JSON.stringify({ email: ['jane@example.com'], token: t }), 'invalid_email'],
      [JSON.stringify({ token: t }), 'invalid_email'],
      [JSON.stringify({ email: 'jane@example.com', token: t, fields: 'firstname=x' }), 'invalid_fields'],
      [JSON.stringify({ email: 'jane@example.com', token: t, fields: { firstname: { nested: 1 } } }), 'invalid_fields'],
      [JSON.stringify({ email: 'jane@example.com', token: t, fields: { 'bad name': 'x' } }), 'invalid_fields'],
    ];
    for (const [body, code] of cases) {
      const res = await identify(body);
      expect(res.status, body.slice(0, 40)).toBe(400);
      expect(res.json.error).toBe(code);
    }
    expect(apiRequests()).toBe(0);
  });

  it('rate-limits per IP (429 with Retry-After), before reading the body', async () => {
    const limited = createMauticProxy({
      mauticUrl: mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], rateLimit: { max: 2, windowSeconds: 60 } },
      logger: capture.logger,
    });
    const s = await listen(toNodeListener(limited, { trustedHops: 1 }));
    try {
      const post = (ip: string): Promise<Response> =>
        fetch(`${s.url}/mt/identify`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-forwarded-for': ip }, body: '{' });
      expect((await post('198.51.100.1')).status).toBe(400);
      expect((await post('198.51.100.1')).status).toBe(400);
      const third = await post('198.51.100.1');
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('60');
      await capture.record(third);
      expect((await post('198.51.100.2')).status).toBe(400);
    } finally {
      await s.close();
    }
    expect(apiRequests()).toBe(0);
  });
});

describe('unsigned mode and upstream failures', () => {
  it('unsigned mode identifies without a token', async () => {
    const open = createMauticProxy({
      mauticUrl: mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { mode: 'unsigned', allowedFields: ['firstname'] },
      logger: capture.logger,
    });
    const s = await listen(toNodeListener(open));
    try {
      // Default allowed origin: the site's own origin.
      const res = await identify({ email: 'lead@example.com', fields: { firstname: 'Lee' } }, { url: `${s.url}/mt/identify`, origin: s.url });
      expect(res.status).toBe(200);
      expect(mautic.contacts.find((c) => c.fields.email === 'lead@example.com')!.fields.firstname).toBe('Lee');
      const foreign = await identify({ email: 'lead@example.com' }, { url: `${s.url}/mt/identify`, origin: 'http://evil.test' });
      expect(foreign.status).toBe(403);
    } finally {
      await s.close();
    }
  });

  it('answers 502 / 504 with a fixed message when the API fails or hangs', async () => {
    mautic.inject({ route: 'api', status: 500 });
    const failed = await identify({ email: 'jane@example.com', token: await token('jane@example.com') });
    expect(failed.status).toBe(502);
    expect(failed.json).toEqual({ error: 'upstream_error', message: 'Mautic could not be reached.' });
    mautic.clearInjections();
    // A short timeout on its own proxy, so normal requests elsewhere keep generous bounds.
    const impatient = createMauticProxy({
      mauticUrl: mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN] },
      logger: capture.logger,
      timeoutMs: 1000,
    });
    const s = await listen(toNodeListener(impatient));
    try {
      mautic.inject({ route: 'api', hang: true });
      const hung = await identify({ email: 'jane@example.com', token: await token('jane@example.com') }, { url: `${s.url}/mt/identify` });
      expect(hung.status).toBe(504);
      expect(hung.json.error).toBe('upstream_timeout');
    } finally {
      mautic.clearInjections();
      await s.close();
    }
  });
});

describe('server-side proxy.identify', () => {
  it('edits a known contact, binds from a request, or creates', async () => {
    const created = await proxy.identify({ email: 'srv@example.com', fields: { city: 'Oslo' } });
    expect(created).toMatchObject({ created: true, setCookie: null });
    const edited = await proxy.identify({ email: 'srv@example.com', fields: { lastname: 'Server' }, contactId: created.contactId });
    expect(edited).toMatchObject({ contactId: created.contactId, created: false });
    expect(mautic.contact(created.contactId)!.fields).toMatchObject({ city: 'Oslo', lastname: 'Server' });

    const visit = await pageview();
    const request = new Request('https://site.test/account', { headers: { cookie: visit.binding } });
    const bound = await proxy.identify({ email: 'visitor@example.com', request });
    expect(bound).toEqual({ contactId: visit.id, created: false, setCookie: null });
    const fresh = await proxy.identify({ email: 'other@example.com', request: new Request('https://site.test/') });
    expect(fresh.setCookie).toMatch(/^mt_binding=v1\.\d+\.\.\d+\.[A-Za-z0-9_-]{43}; Path=\/mt; Max-Age=\d+; SameSite=Lax; Secure; HttpOnly$/);
    capture.sensitive.add(fresh.setCookie!.split(';')[0]!.slice('mt_binding='.length));
    await expect(proxy.identify({ email: 'nope' })).rejects.toThrow(TypeError);
  });
});
