/**
 * `POST {base}/identify` and `proxy.identify()` over real HTTP: browser-ish client → proxy
 * (Node adapter) → the real Mautic stand-in with OAuth2. Every rejected request is checked to
 * make no API call at all (not even a token request).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, MauticValidationError, MemoryStore, mintIdentityToken, toNodeListener, type MauticProxy } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen, startFakeUpstream, type UpstreamReply } from './support/fake-upstream.js';
import { BASIC_PASSWORD, BASIC_USER, CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';

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
    identify: { tokenSecret: TOKEN_SECRET, allowedFields: ['firstname', 'lastname'], allowedOrigins: [ORIGIN], rateLimit: { max: 1000 }, history: false },
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

/** A pageview through the proxy, as a browser sends it: the device cookie (if any) and the binding. */
async function pageview(cookie = ''): Promise<{ binding: string; id: number; deviceId: string; cookie: string }> {
  const res = await fetch(`${site.url}/mt/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: FORM,
  });
  const json = JSON.parse(await capture.record(res)) as { id: number; device_id: string };
  const fresh = res.headers.getSetCookie().find((c) => c.startsWith('mt_binding='))?.split(';')[0];
  const binding = fresh ?? cookie.split('; ').find((c) => c.startsWith('mt_binding='))!;
  capture.sensitive.add(binding.slice('mt_binding='.length));
  return { binding, id: json.id, deviceId: json.device_id, cookie: `mautic_device_id=${json.device_id}; ${binding}` };
}

function bindingCookie(setCookies: string[]): string {
  const c = setCookies.find((x) => x.startsWith('mt_binding='));
  expect(c, 'binding cookie').toBeDefined();
  expect(c).toMatch(/; Path=\/mt; Max-Age=\d+; SameSite=Lax; HttpOnly$/);
  capture.sensitive.add(c!.split(';')[0]!.slice('mt_binding='.length));
  return c!.split(';')[0]!;
}

/**
 * The API calls since `from`, as `METHOD /path` (the stand-in records paths without queries).
 * Token requests and the 401 that makes the proxy fetch one (the stand-in's reset forgets
 * tokens) are not counted.
 */
function callsSince(from: number): string[] {
  return mautic.apiCalls.filter((c) => c.seq > from && c.operation !== 'token' && c.operation !== 'auth').map((c) => `${c.method} ${c.path}`);
}
const lastSeq = (): number => mautic.apiCalls.at(-1)?.seq ?? 0;

/** The device with this tracking id, as the stand-in holds it. */
function deviceOf(trackingId: string) {
  return mautic.devices.find((d) => d.trackingId === trackingId);
}

describe('case 1: new email, anonymous browser', () => {
  it('the browser\'s own contact gets the email and the allowed fields: search, GET B, PATCH B', async () => {
    const visit = await pageview();
    const from = lastSeq();
    const res = await identify(
      { email: 'new@example.com', fields: { firstname: 'Nia', company: 'Acme', points: 500 }, token: await token('new@example.com') },
      { cookie: visit.cookie },
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, ignoredFields: ['company', 'points'] });
    expect(res.cookies).toEqual([]); // same contact: binding unchanged
    expect(callsSince(from)).toEqual(['GET /api/contacts', `GET /api/contacts/${visit.id}`, `PATCH /api/contacts/${visit.id}/edit`]);
    expect(mautic.contact(visit.id)!.fields).toMatchObject({ email: 'new@example.com', firstname: 'Nia' });
    expect(mautic.contact(visit.id)!.points).toBe(0);
    expect(mautic.contacts).toHaveLength(1);
  });

  it('without a binding: search, POST new, then binds', async () => {
    const from = lastSeq();
    const res = await identify({ email: 'fresh@example.com', fields: { firstname: 'Fay' }, token: await token('fresh@example.com') });
    expect(res.status).toBe(200);
    const created = mautic.contacts.find((c) => c.fields.email === 'fresh@example.com')!;
    expect(created.fields.firstname).toBe('Fay');
    expect(callsSince(from)).toEqual(['GET /api/contacts', 'POST /api/contacts/new']);
    expect(bindingCookie(res.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${created.id}\\.\\.`));
  });
});

describe('case 2: email of an existing contact A, anonymous browser contact B', () => {
  it('no 422 and no merge through the API: the browser\'s device moves to A, so Mautic counts its later hits for A', async () => {
    const a = (await proxy.rest!.createOrUpdateContact({ email: 'jane@example.com', lastname: 'Known' })).contact;
    await proxy.rest!.addDoNotContact(a.id, 'email', { reason: 3, comments: 'asked' });
    const visit = await pageview();
    expect(visit.id).not.toBe(a.id);
    const from = lastSeq();

    const res = await identify(
      { email: 'Jane@Example.com', fields: { firstname: 'Jane' }, token: await token('jane@example.com') },
      { cookie: visit.cookie },
    );
    expect(res.status).toBe(200);
    const device = deviceOf(visit.deviceId)!;
    expect(callsSince(from)).toEqual([
      'GET /api/contacts',
      `GET /api/contacts/${visit.id}`,
      'GET /api/stats/lead_devices',
      `PATCH /api/devices/${device.id}/edit`,
      `PATCH /api/contacts/${a.id}/edit`,
    ]);
    expect(mautic.apiCalls.filter((c) => c.status === 422)).toEqual([]);
    expect(device.contactId).toBe(a.id);
    expect(bindingCookie(res.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${a.id}\\.${visit.deviceId}\\.`));
    // A keeps its id, email and Do-Not-Contact entry; B is left alone (no history merge configured).
    expect(mautic.contact(a.id)!.fields).toMatchObject({ email: 'jane@example.com', lastname: 'Known', firstname: 'Jane' });
    expect(mautic.contact(a.id)!.doNotContact).toHaveLength(1);
    expect(mautic.contact(visit.id)).toBeDefined();
    expect(mautic.merges).toEqual([]);

    // The next hit with the unchanged device cookie is A's, in Mautic's own attribution.
    const later = await pageview(`mautic_device_id=${visit.deviceId}; ${bindingCookie(res.cookies)}`);
    expect(later.id).toBe(a.id);
    expect(mautic.hits.at(-1)!.contactId).toBe(a.id);
  });
});

describe('case 3: a shared browser', () => {
  it('identified as P, then A logs in: the device moves to A; P is never merged and keeps its contact and history', async () => {
    const a = (await proxy.rest!.createOrUpdateContact({ email: 'alice@example.com' })).contact;
    const visit = await pageview();
    const asP = await identify({ email: 'pat@example.com', token: await token('pat@example.com') }, { cookie: visit.cookie });
    expect(asP.status).toBe(200);
    expect(mautic.contact(visit.id)!.fields.email).toBe('pat@example.com');
    const pHits = mautic.hits.filter((h) => h.contactId === visit.id).length;
    const from = lastSeq();

    const asA = await identify({ email: 'alice@example.com', token: await token('alice@example.com') }, { cookie: visit.cookie });
    expect(asA.status).toBe(200);
    const device = deviceOf(visit.deviceId)!;
    expect(callsSince(from)).toEqual(['GET /api/contacts', `GET /api/contacts/${visit.id}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${device.id}/edit`]);
    expect(device.contactId).toBe(a.id);
    expect(mautic.contact(visit.id)!.fields.email).toBe('pat@example.com');
    expect(mautic.hits.filter((h) => h.contactId === visit.id)).toHaveLength(pHits);
    expect(mautic.merges).toEqual([]);
    const later = await pageview(`mautic_device_id=${visit.deviceId}; ${bindingCookie(asA.cookies)}`);
    expect(later.id).toBe(a.id);
  });

  it('identified as P, then someone new logs in: a contact of their own gets the device', async () => {
    const visit = await pageview();
    await identify({ email: 'pat@example.com', token: await token('pat@example.com') }, { cookie: visit.cookie });
    const from = lastSeq();
    const res = await identify({ email: 'newbie@example.com', token: await token('newbie@example.com') }, { cookie: visit.cookie });
    expect(res.status).toBe(200);
    const newbie = mautic.contacts.find((c) => c.fields.email === 'newbie@example.com')!;
    const device = deviceOf(visit.deviceId)!;
    expect(callsSince(from)).toEqual([
      'GET /api/contacts',
      `GET /api/contacts/${visit.id}`,
      'POST /api/contacts/new',
      'GET /api/stats/lead_devices',
      `PATCH /api/devices/${device.id}/edit`,
    ]);
    expect(device.contactId).toBe(newbie.id);
    expect(mautic.contact(visit.id)!.fields.email).toBe('pat@example.com');
    expect(bindingCookie(res.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${newbie.id}\\.${visit.deviceId}\\.`));
  });
});

describe('case 4: the same person again', () => {
  it('onload, nothing changes, one API call (two when a field changed)', async () => {
    const visit = await pageview();
    await identify({ email: 'same@example.com', fields: { firstname: 'Sam' }, token: await token('same@example.com') }, { cookie: visit.cookie });
    const before = JSON.stringify(mautic.contact(visit.id));
    let from = lastSeq();
    const again = await identify({ email: 'same@example.com', fields: { firstname: 'Sam' }, token: await token('same@example.com') }, { cookie: visit.cookie });
    expect(again.status).toBe(200);
    expect(again.cookies).toEqual([]);
    expect(callsSince(from)).toEqual(['GET /api/contacts']);
    expect(JSON.stringify(mautic.contact(visit.id))).toBe(before);
    from = lastSeq();
    const renamed = await identify({ email: 'same@example.com', fields: { firstname: 'Samuel' }, token: await token('same@example.com') }, { cookie: visit.cookie });
    expect(renamed.status).toBe(200);
    expect(callsSince(from)).toEqual(['GET /api/contacts', `PATCH /api/contacts/${visit.id}/edit`]);
  });
});

describe('case 5: two contacts already share the email', () => {
  it('chooses the lowest id (the oldest), deterministically; onload', async () => {
    // Duplicates arise in Mautic when email was not a unique identifier at the time (imports,
    // an older configuration): a stand-in without unique fields makes them the same way.
    const loose = await startStandin({ uniqueFields: [], api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } });
    const looseProxy = createMauticProxy({
      mauticUrl: loose.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false },
      logger: capture.logger,
    });
    const s = await listen(toNodeListener(looseProxy));
    try {
      for (const n of [1, 2]) await looseProxy.rest!.createOrUpdateContact({ email: 'dup@example.com', firstname: `Dup${n}` });
      const dups = loose.contacts.filter((c) => c.fields.email === 'dup@example.com').map((c) => c.id).sort((x, y) => x - y);
      expect(dups).toHaveLength(2);
      const hit = async (cookie = '') => {
        const res = await fetch(`${s.url}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body: FORM });
        const json = JSON.parse(await capture.record(res)) as { id: number; device_id: string };
        const binding = res.headers.getSetCookie().find((c) => c.startsWith('mt_binding='))?.split(';')[0] ?? '';
        capture.sensitive.add(binding.slice('mt_binding='.length));
        return { id: json.id, cookie: `mautic_device_id=${json.device_id}; ${binding}`, deviceId: json.device_id };
      };
      const visit = await hit();
      const res = await identify({ email: 'dup@example.com', token: await token('dup@example.com') }, { cookie: visit.cookie, url: `${s.url}/mt/identify` });
      expect(res.status).toBe(200);
      expect(loose.devices.find((d) => d.trackingId === visit.deviceId)!.contactId).toBe(dups[0]);
      expect(bindingCookie(res.cookies)).toMatch(new RegExp(`^mt_binding=v1\\.${dups[0]}\\.`));
      // A browser already counted for the newer one stays with its own contact.
      const other = await hit();
      await looseProxy.rest!.assignDevice(loose.devices.find((d) => d.trackingId === other.deviceId)!.id, dups[1]!);
      const bound = await hit(other.cookie);
      expect(bound.id).toBe(dups[1]);
      const own = await identify({ email: 'dup@example.com', token: await token('dup@example.com') }, { cookie: bound.cookie, url: `${s.url}/mt/identify` });
      expect(own.status).toBe(200);
      expect(own.cookies).toEqual([]);
      expect(loose.devices.find((d) => d.trackingId === other.deviceId)!.contactId).toBe(dups[1]);
    } finally {
      await s.close();
      await loose.close();
    }
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
      const from = lastSeq();
      const res = await identify({ email: 'attacker@example.com', token: await token('attacker@example.com'), contactId: victim.contact.id }, { cookie });
      expect(res.status, cookie.slice(0, 40)).toBe(200);
      const calls = callsSince(from);
      // Unbound: a search, then the attacker's own contact (created once, then found).
      expect(calls[0], cookie.slice(0, 40)).toBe('GET /api/contacts');
      expect(calls.every((c) => c === 'GET /api/contacts' || c === 'POST /api/contacts/new'), calls.join()).toBe(true);
    }
    expect(mautic.contact(victim.contact.id)!.fields.email).toBe('victim@example.com');
    expect(deviceOf(device!)!.contactId).toBe(visit.id);
    expect(mautic.merges).toEqual([]);
  });
});

describe('tokens are single use', () => {
  it('a replay is 401 token_used with zero upstream calls, also with another binding; a fresh token works', async () => {
    const t = await token('once@example.com');
    const visit = await pageview();
    expect((await identify({ email: 'once@example.com', token: t }, { cookie: visit.cookie })).status).toBe(200);
    const before = mautic.requests.length;
    const other = await pageview();
    const requestsAfterPageview = mautic.requests.length;
    for (const cookie of [visit.cookie, other.cookie, undefined]) {
      const replay = await identify({ email: 'once@example.com', token: t }, { cookie });
      expect(replay.status).toBe(401);
      expect(replay.json.error).toBe('token_used');
    }
    expect(mautic.requests.length).toBe(requestsAfterPageview);
    expect(requestsAfterPageview - before).toBe(1); // only the pageview
    expect((await identify({ email: 'once@example.com', token: await token('once@example.com') }, { cookie: visit.cookie })).status).toBe(200);
  });

  it('several proxies sharing one store refuse each other\'s spent tokens', async () => {
    const shared = new MemoryStore();
    const make = () =>
      createMauticProxy({
        mauticUrl: mautic.url,
        secret: SECRET,
        auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false },
        store: shared,
        logger: capture.logger,
      });
    const [one, two] = await Promise.all([listen(toNodeListener(make())), listen(toNodeListener(make()))]);
    try {
      const t = await token('shared@example.com');
      expect((await identify({ email: 'shared@example.com', token: t }, { url: `${one.url}/mt/identify` })).status).toBe(200);
      const before = mautic.requests.length;
      const replay = await identify({ email: 'shared@example.com', token: t }, { url: `${two.url}/mt/identify` });
      expect(replay.status).toBe(401);
      expect(replay.json.error).toBe('token_used');
      expect(mautic.requests.length).toBe(before);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
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

});

/** A proxy of its own (default origin policy unless given), served on 127.0.0.1. */
async function ownProxy(config: Partial<Parameters<typeof createMauticProxy>[0]> = {}, adapter: { trustedHops?: number } = {}) {
  const own = createMauticProxy({
    mauticUrl: mautic.url,
    secret: SECRET,
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false },
    logger: capture.logger,
    ...config,
  });
  const server = await listen(toNodeListener(own, adapter));
  return { proxy: own, url: server.url, close: () => server.close() };
}

describe('one deadline for the whole identify (timeoutMs)', () => {
  it('answers 502 upstream_error with a fixed message when the API fails', async () => {
    mautic.inject({ route: 'api', status: 500 });
    const failed = await identify({ email: 'jane@example.com', token: await token('jane@example.com') });
    expect(failed.status).toBe(502);
    expect(failed.json).toEqual({ error: 'upstream_error', message: 'Mautic could not be reached.' });
  });

  it('answers within timeoutMs whatever Mautic does: hanging (504), or slow on every one of several calls', async () => {
    const own = await ownProxy({ timeoutMs: 1000 });
    try {
      // A fresh server's first request pays one-time costs before any deadline starts (its first
      // connection, the token key's import): a refused one (another email's token: 401, no Mautic
      // call) pays them here, so the bounds below measure the identification.
      const warmUp = await identify({ email: 'jane@example.com', token: await token('warm-up@example.com') }, { url: `${own.url}/mt/identify` });
      expect(warmUp.status).toBe(401);
      mautic.inject({ route: 'api', hang: true });
      // Tokens are minted before each clock starts: the bound is on the proxy's answer.
      const janeToken = await token('jane@example.com');
      let started = Date.now();
      const hung = await identify({ email: 'jane@example.com', token: janeToken }, { url: `${own.url}/mt/identify` });
      const hungMs = Date.now() - started;
      expect(hung.status).toBe(504);
      expect(hung.json.error).toBe('upstream_timeout');
      expect(hungMs).toBeLessThan(1000 + 400);
      mautic.clearInjections();

      // Case 2 takes five calls; at 450 ms each no single call times out, but the whole would take 2.2 s.
      await proxy.rest!.createOrUpdateContact({ email: 'slow@example.com' });
      const visit = await pageview();
      const slowToken = await token('slow@example.com');
      mautic.inject({ route: 'api', delayMs: 450 });
      started = Date.now();
      const slow = await identify({ email: 'slow@example.com', token: slowToken }, { url: `${own.url}/mt/identify`, cookie: visit.cookie });
      const slowMs = Date.now() - started;
      expect(slowMs).toBeLessThan(1000 + 400);
      expect(slow.status).toBe(504);
    } finally {
      mautic.clearInjections();
      await own.close();
    }
  });
});

/** Recorded answers of a real Mautic 5.1 (mautic-5.1-exchanges: oauth_token_*, api_disabled_*, api_basic_*). */
const RECORDED: Record<string, UpstreamReply> = {
  invalid_client: { status: 400, body: '{"errors":[{"message":"The client credentials are invalid","code":400,"type":"invalid_client"}]}' },
  unauthorized_client: { status: 400, body: '{"errors":[{"message":"The grant type is unauthorized for this client_id","code":400,"type":"unauthorized_client"}]}' },
  api_disabled: { status: 403, body: '{"errors":[{"message":"API disabled. You need to enable the API in the API settings of Mautic\\u0027s Configuration.","code":403,"type":"api_disabled"}]}' },
  basic_auth_disabled: { status: 403, body: '{"errors":[{"message":"Basic Auth disabled. You need to enable HTTP basic auth in the API settings of Mautic\\u0027s Configuration.","code":403,"type":"access_denied"}]}' },
  invalid_credentials: { status: 401, body: '{"errors":[{"message":"Authorization denied, invalid credentials.","code":401,"type":"access_denied"}]}' },
};

describe('auth failures get their own error code and a log line saying which', () => {
  const cases: Array<[string, 'oauth2' | 'basic', string]> = [
    ['invalid_client', 'oauth2', 'mautic_invalid_client'],
    ['unauthorized_client', 'oauth2', 'mautic_unauthorized_client'],
    ['api_disabled', 'oauth2', 'mautic_api_disabled'],
    ['api_disabled', 'basic', 'mautic_api_disabled'],
    ['basic_auth_disabled', 'basic', 'mautic_basic_auth_disabled'],
    ['invalid_credentials', 'basic', 'mautic_invalid_credentials'],
  ];
  for (const [recorded, type, code] of cases) {
    it(`${type}: ${recorded} → 502 ${code}`, async () => {
      const fake = await startFakeUpstream((req) => (req.url.startsWith('/oauth') || type === 'basic' ? RECORDED[recorded]! : { status: 500 }));
      const auth = type === 'oauth2'
        ? { type: 'oauth2' as const, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }
        : { type: 'basic' as const, username: BASIC_USER, password: BASIC_PASSWORD };
      const own = await ownProxy({ mauticUrl: fake.url, auth });
      const linesBefore = capture.lines.length;
      try {
        const res = await identify({ email: 'jane@example.com', token: await token('jane@example.com') }, { url: `${own.url}/mt/identify` });
        expect(res.status).toBe(502);
        expect(res.json.error).toBe(code);
        const logged = capture.lines.slice(linesBefore).join('\n');
        expect(logged).toContain(`"reason":"${code.slice('mautic_'.length)}"`);
        expect(logged).toContain('refused the proxy');
        // Not mistaken for "unreachable", and never retried into a storm.
        expect(res.json.message).not.toBe('Mautic could not be reached.');
        expect(fake.requests.length).toBeLessThanOrEqual(2);
      } finally {
        await own.close();
        await fake.close();
      }
    });
  }

  it('an unreachable Mautic stays 502 upstream_error', async () => {
    const fake = await startFakeUpstream(() => ({ status: 200 }));
    const url = fake.url;
    await fake.close(); // nothing listens there any more
    const own = await ownProxy({ mauticUrl: url });
    try {
      const res = await identify({ email: 'jane@example.com', token: await token('jane@example.com') }, { url: `${own.url}/mt/identify` });
      expect(res.status).toBe(502);
      expect(res.json.error).toBe('upstream_error');
    } finally {
      await own.close();
    }
  });
});

describe('the default allowed origin is the one the browser used', () => {
  const defaultOrigins = { identify: { tokenSecret: TOKEN_SECRET, history: false as const } };

  it('a framework route handler whose request.url says localhost accepts its own pages (Host header)', async () => {
    const own = createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, ...defaultOrigins, logger: capture.logger });
    // What `next start -H 127.0.0.1` hands a route handler: its own idea of the URL, the browser's Host.
    const post = async (origin: string) =>
      own.handle(
        new Request('http://localhost:3000/mt/identify', {
          method: 'POST',
          headers: { host: '127.0.0.1:3000', origin, 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'next@example.com', token: await token('next@example.com') }),
        }),
        { clientIp: '127.0.0.1' },
      );
    const ok = await post('http://127.0.0.1:3000');
    await capture.record(ok);
    expect(ok.status).toBe(200);
    for (const origin of ['http://evil.test', 'https://127.0.0.1:3000', 'http://127.0.0.1:3001']) {
      const refused = await post(origin);
      expect(refused.status, origin).toBe(403);
      await capture.record(refused);
    }
  });

  it('behind trustedHops the Node adapter takes X-Forwarded-Host (and -Proto); without hops it does not', async () => {
    const trusting = await ownProxy(defaultOrigins, { trustedHops: 1 });
    const plain = await ownProxy(defaultOrigins);
    try {
      const forwarded = { 'x-forwarded-host': 'www.site.test', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' };
      const send = async (base: string) => {
        const res = await fetch(`${base}/mt/identify`, {
          method: 'POST',
          headers: { ...forwarded, origin: 'https://www.site.test', 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'fwd@example.com', token: await token('fwd@example.com') }),
        });
        await capture.record(res);
        return res.status;
      };
      expect(await send(trusting.url)).toBe(200);
      expect(await send(plain.url)).toBe(403);
    } finally {
      await trusting.close();
      await plain.close();
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
    expect(bound).toEqual({ contactId: visit.id, created: false, setCookie: null, steps: [] });
    const fresh = await proxy.identify({ email: 'other@example.com', request: new Request('https://site.test/') });
    expect(fresh.setCookie).toMatch(/^mt_binding=v1\.\d+\.\.\d+\.[A-Za-z0-9_-]{43}; Path=\/mt; Max-Age=\d+; SameSite=Lax; Secure; HttpOnly$/);
    capture.sensitive.add(fresh.setCookie!.split(';')[0]!.slice('mt_binding='.length));
    await expect(proxy.identify({ email: 'nope' })).rejects.toThrow(TypeError);
  });

  it('tags, segments and points in the same call, each reported; a failed step does not undo the identification', async () => {
    const segments = await startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] }, segments: [{ name: 'Newsletter' }, { name: 'Trials' }] });
    const withSegments = createMauticProxy({
      mauticUrl: segments.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, history: false },
      logger: capture.logger,
    });
    try {
      const result = await withSegments.identify({ email: 'steps@example.com', fields: { firstname: 'Step' }, tags: ['customer', 'plan-pro'], segments: [2, 999], points: 10 });
      expect(result.created).toBe(true);
      expect(result.steps).toEqual([
        { step: 'tags', outcome: 'done' },
        { step: 'segment', segmentId: 2, outcome: 'done' },
        { step: 'segment', segmentId: 999, outcome: 'failed', error: 'MauticNotFoundError 404' },
        { step: 'points', outcome: 'done' },
      ]);
      const stored = segments.contact(result.contactId)!;
      expect(stored).toMatchObject({ tags: ['customer', 'plan-pro'], segments: [2], points: 10, fields: { email: 'steps@example.com', firstname: 'Step' } });
      const again = await withSegments.identify({ email: 'steps@example.com', points: { operator: 'times', delta: 3 } });
      expect(again).toMatchObject({ contactId: result.contactId, created: false, steps: [{ step: 'points', outcome: 'done' }] });
      expect(segments.contact(result.contactId)!.points).toBe(30);

      // Refused before any call: a tag that would remove one, a bad segment id, a zero delta.
      const calls = segments.requests.length;
      await expect(withSegments.identify({ email: 'steps@example.com', tags: ['-customer'] })).rejects.toThrow(TypeError);
      await expect(withSegments.identify({ email: 'steps@example.com', segments: [0] })).rejects.toThrow(TypeError);
      await expect(withSegments.identify({ email: 'steps@example.com', points: { operator: 'divide', delta: 0 } })).rejects.toThrow(TypeError);
      expect(segments.requests.length).toBe(calls);
    } finally {
      await segments.close();
    }
  });

  it('version aware: on Mautic 4 (which would merge), naming a contact with another\'s email is refused before any PATCH', async () => {
    const stands = await Promise.all(['4.4.12', '5.1.0'].map((mauticVersion) => startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] }, mauticVersion })));
    try {
      for (const stand of stands) {
        const p = createMauticProxy({ mauticUrl: stand.url, secret: SECRET, auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, identify: { tokenSecret: TOKEN_SECRET, history: false }, logger: capture.logger });
        const a = await p.identify({ email: 'a@example.com' });
        const b = await p.identify({ email: 'b@example.com' });
        const err = await p.identify({ email: 'a@example.com', contactId: b.contactId }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MauticValidationError);
        expect((err as MauticValidationError).details).toEqual({ email: ['This field must be unique.'] });
        const patches = stand.requests.filter((r) => r.method === 'PATCH' && r.path === `/api/contacts/${b.contactId}/edit`).length;
        expect(patches, stand.url).toBe(p.rest!.mauticMajorVersion === 4 ? 0 : 1);
        expect(a.contactId).not.toBe(b.contactId);
      }
    } finally {
      await Promise.all(stands.map((s) => s.close()));
    }
  });

  it('the follow-ups share the identification\'s deadline: a step Mautic does not answer in time is reported as timeout, in time', async () => {
    const slow = await startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] }, segments: [{ name: 'Newsletter' }] });
    // Segment calls take 3 s (as a Mautic busy rebuilding a segment might); everything else is real and quick.
    const slowSegments: typeof fetch = async (input, init) => {
      if (String(input).includes('/api/segments/')) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 3000);
          init?.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new DOMException('aborted', 'AbortError'));
          });
        });
      }
      return fetch(input, init);
    };
    const impatient = createMauticProxy({
      mauticUrl: slow.url,
      secret: SECRET,
      timeoutMs: 800,
      fetch: slowSegments,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, history: false },
      logger: capture.logger,
    });
    try {
      const started = Date.now();
      const result = await impatient.identify({ email: 'slow@example.com', segments: [1], tags: ['quick'] });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(result.created).toBe(true);
      expect(result.steps).toEqual([
        { step: 'tags', outcome: 'done' },
        { step: 'segment', segmentId: 1, outcome: 'timeout', error: 'MauticTimeoutError 0' },
      ]);
      expect(slow.contact(result.contactId)!.tags).toEqual(['quick']);
    } finally {
      await slow.close();
    }
  });
});

describe('identify through the Web handle()', () => {
  it('answers 408 within timeoutMs when the JSON body stalls, with no Mautic call', async () => {
    const impatient = createMauticProxy({
      mauticUrl: mautic.url,
      basePath: '/mt',
      secret: SECRET,
      timeoutMs: 1000,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false },
      logger: capture.logger,
    });
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"email":"jane@exa'));
      },
    });
    const started = Date.now();
    const answer = impatient.handle(
      new Request(`${ORIGIN}/mt/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: stalled,
        duplex: 'half',
      } as RequestInit),
      { clientIp: '203.0.113.8' },
    );
    const res = await Promise.race([answer, new Promise<null>((resolve) => setTimeout(() => resolve(null), 6000))]);
    expect(res, 'no answer within 6 s').not.toBeNull();
    expect(res!.status).toBe(408);
    await capture.record(res!);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(apiRequests()).toBe(0);
  });
});
