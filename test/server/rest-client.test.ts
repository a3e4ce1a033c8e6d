/**
 * The REST client against the real stand-in (OAuth2, Basic, contacts, rate limiter) and against
 * a recording upstream for the error shapes and failure modes the stand-in does not produce.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { BasicAuth, MauticApiError, MauticRestClient, OAuth2ClientCredentials, parseErrorBody } from '../../src/server/index.js';
import { installCapture } from './support/capture.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { BASIC_PASSWORD, BASIC_USER, CLIENT_ID, CLIENT_SECRET } from './support/secrets.js';

const capture = installCapture();
let mautic: Standin;
let clock = Date.now();

beforeAll(async () => {
  mautic = await startStandin({
    api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }], basicUsers: [{ username: BASIC_USER, password: BASIC_PASSWORD }] },
    // Segment 3 exists, as segments made in Mautic's UI before the site used the API.
    segments: [{ name: 'Leads' }, { name: 'Trials' }, { name: 'Customers' }],
    clock: () => clock,
  });
});
afterAll(async () => {
  await mautic?.close();
});
beforeEach(() => {
  mautic.reset();
  clock = Date.now();
});

function oauthClient(secret = CLIENT_SECRET): { client: MauticRestClient; auth: OAuth2ClientCredentials } {
  const auth = new OAuth2ClientCredentials({ baseUrl: mautic.url, clientId: CLIENT_ID, clientSecret: secret });
  return { client: new MauticRestClient({ baseUrl: mautic.url, auth }), auth };
}

async function expectApiError(promise: Promise<unknown>): Promise<MauticApiError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MauticApiError);
  capture.lines.push(`error: ${(err as Error).message}`);
  return err as MauticApiError;
}

const tokenRequests = (): number => mautic.requests.filter((r) => r.path === '/oauth/v2/token').length;

describe('OAuth2 client_credentials against the stand-in', () => {
  it('creates, reads, edits a contact and calls utm, segment, points and dnc', async () => {
    const { client } = oauthClient();
    const { contact, created } = await client.createOrUpdateContact({ email: 'jane@example.com', firstname: 'Jane' });
    expect(created).toBe(true);
    const again = await client.createOrUpdateContact({ email: 'jane@example.com', lastname: 'Doe' });
    expect(again).toMatchObject({ created: false, contact: { id: contact.id } });
    const read = await client.getContact(contact.id);
    expect(read.fields.all).toMatchObject({ email: 'jane@example.com', firstname: 'Jane', lastname: 'Doe' });
    await client.editContact(contact.id, { city: 'Berlin' });
    await client.addUtmTags(contact.id, { utm_source: 'news', utm_campaign: 'spring' });
    await client.addToSegment(3, contact.id);
    await client.addPoints(contact.id, 5);
    await client.addDoNotContact(contact.id, 'email', { reason: 3, comments: 'asked' });
    const stored = mautic.contact(contact.id)!;
    expect(stored.fields).toMatchObject({ email: 'jane@example.com', city: 'Berlin' });
    expect(stored.utm.some((u) => u.utm_source === 'news' && u.source === 'api')).toBe(true);
    expect(stored.segments).toContain(3);
    expect(stored.points).toBe(5);
    expect(stored.doNotContact[0]).toMatchObject({ channel: 'email' });
    expect(tokenRequests()).toBe(1);
  });

  it('fetches one token for many concurrent callers', async () => {
    const { client, auth } = oauthClient();
    const { contact } = await (async () => {
      const c = new MauticRestClient({ baseUrl: mautic.url, auth: new BasicAuth({ username: BASIC_USER, password: BASIC_PASSWORD }) });
      return c.createOrUpdateContact({ email: 'many@example.com' });
    })();
    await Promise.all(Array.from({ length: 12 }, () => client.getContact(contact.id)));
    expect(auth.tokenRequests).toBe(1);
    expect(tokenRequests()).toBe(1);
  });

  it('re-fetches the token once and retries when Mautic answers invalid_grant (expired token)', async () => {
    const { client, auth } = oauthClient();
    const { contact } = await client.createOrUpdateContact({ email: 'expiry@example.com' });
    clock += 2 * 3600 * 1000; // the stand-in now considers the cached token expired
    const read = await client.getContact(contact.id);
    expect(read.id).toBe(contact.id);
    expect(auth.tokenRequests).toBe(2);
    // A POST is retried after a rejected token too (the rejected call did nothing):
    clock += 2 * 3600 * 1000;
    const created = await client.createOrUpdateContact({ email: 'second@example.com' });
    expect(created.created).toBe(true);
    expect(auth.tokenRequests).toBe(3);
    expect(mautic.contacts.filter((c) => c.fields.email === 'second@example.com')).toHaveLength(1);
  });

  it('reports a bad client as MauticApiError invalid_client, without retrying', async () => {
    const { client, auth } = oauthClient('wrong-secret-value-123');
    const err = await expectApiError(client.getContact(1));
    expect(err.status).toBe(400);
    expect(err.type).toBe('invalid_client');
    expect(auth.tokenRequests).toBe(1);
    expect(err.message).not.toContain('wrong-secret-value-123');
  });

  it('parses 404 into MauticApiError with Mautic messages', async () => {
    const { client } = oauthClient();
    const err = await expectApiError(client.editContact(9999, { email: 'x@example.com' }));
    expect(err.status).toBe(404);
    expect(err.messages).toEqual(['Item was not found.']);
  });
});

describe('Basic auth against the stand-in', () => {
  it('works with the right password and fails 401 without retry with a wrong one', async () => {
    const ok = new MauticRestClient({ baseUrl: mautic.url, auth: new BasicAuth({ username: BASIC_USER, password: BASIC_PASSWORD }) });
    const { created } = await ok.createOrUpdateContact({ email: 'basic@example.com' });
    expect(created).toBe(true);
    const before = mautic.requests.length;
    const bad = new MauticRestClient({ baseUrl: mautic.url, auth: new BasicAuth({ username: BASIC_USER, password: 'not-the-password' }) });
    const err = await expectApiError(bad.getContact(1));
    expect(err.status).toBe(401);
    expect(mautic.requests.length - before).toBe(1);
  });
});

describe('rate limiter', () => {
  it('a 429 carries the reset time; a POST is not repeated; a GET does not wait an hour', async () => {
    const limited = await startStandin({ api: { basicUsers: [{ username: BASIC_USER, password: BASIC_PASSWORD }], rateLimitPerHour: 1 } });
    try {
      const client = new MauticRestClient({ baseUrl: limited.url, auth: new BasicAuth({ username: BASIC_USER, password: BASIC_PASSWORD }) });
      await client.createOrUpdateContact({ email: 'rl@example.com' });
      const post = await expectApiError(client.createOrUpdateContact({ email: 'rl2@example.com' }));
      expect(post.status).toBe(429);
      expect(post.rateLimitResetAt).toBeGreaterThan(Date.now());
      const get = await expectApiError(client.getContact(1));
      expect(get.status).toBe(429);
      expect(limited.requests.filter((r) => r.path.startsWith('/api'))).toHaveLength(3);
    } finally {
      await limited.close();
    }
  });
});

describe('error shapes and retry policy (recording upstream)', () => {
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await startFakeUpstream(() => ({ status: 200, body: '{}' }));
  });
  afterAll(async () => {
    await up?.close();
  });
  beforeEach(() => {
    up.requests.length = 0;
  });
  const basic = (): BasicAuth => new BasicAuth({ username: BASIC_USER, password: BASIC_PASSWORD });
  const client = (extra: Partial<ConstructorParameters<typeof MauticRestClient>[0]> = {}): MauticRestClient =>
    new MauticRestClient({ baseUrl: up.url, auth: basic(), backoffMs: 20, ...extra });

  it('parses every error shape of docs/protocol.md §7', () => {
    expect(parseErrorBody({ errors: [{ code: 404, message: 'Item was not found.', details: [], type: null }] })).toEqual({ type: null, messages: ['Item was not found.'], code: 404, details: {} });
    // api_contacts_patch_422_duplicate_email: the field details are kept.
    expect(parseErrorBody({ errors: [{ code: 422, message: 'email: This field must be unique.', details: { email: ['This field must be unique.'] } }] })?.details).toEqual({ email: ['This field must be unique.'] });
    expect(parseErrorBody({ errors: [{ message: 'The access token provided is invalid.', code: 401, type: 'invalid_grant' }] })).toMatchObject({ type: 'invalid_grant', code: 401 });
    expect(parseErrorBody({ error: 'invalid_grant', error_description: 'expired' })).toEqual({ type: 'invalid_grant', messages: ['expired'], code: null, details: {} });
    expect(parseErrorBody({ error: { message: 'Forbidden', code: 403 } })).toEqual({ type: null, messages: ['Forbidden'], code: 403, details: {} });
    expect(parseErrorBody({ contact: { id: 1 } })).toBeNull();
  });

  it('reads Mautic 5.1\'s list shape: total as a string, contacts keyed by id; an email search keeps exact matches only', async () => {
    // As recorded (api_contacts_list_search_two_share), plus a LIKE false positive: `_` matches any character.
    const contact = (id: number, email: string) => ({ id, fields: { all: { id: String(id), email } } });
    up.reply = () => ({
      status: 200,
      headers: { 'content-type': 'application/json', 'Mautic-Version': '5.1.0' },
      body: JSON.stringify({ total: '3', contacts: { '4': contact(4, 'dup@example.com'), '3': contact(3, 'DUP@example.com'), '9': contact(9, 'dupx@example.com') } }),
    });
    const c = client();
    const list = await c.searchContacts('email:dup@example.com');
    expect(list.total).toBe(3);
    expect(list.contacts.map((x) => x.id)).toEqual([3, 4, 9]);
    up.reply = () => ({ status: 200, body: JSON.stringify({ total: '2', contacts: { '4': contact(4, 'a_b@example.com'), '5': contact(5, 'axb@example.com') } }) });
    expect((await c.findContactsByEmail('A_B@example.com')).map((x) => x.id)).toEqual([4]);
    expect(c.mauticVersion).toBe('5.1.0');
    const url = new URL(up.requests.at(-1)!.url, up.url);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ search: 'email:a_b@example.com', minimal: '1', orderBy: 'id', orderByDir: 'asc' });
    up.reply = () => ({ status: 200, body: '{"total":"0","contacts":{}}' });
    expect(await c.findContactsByEmail('nobody@example.com')).toEqual([]);
  });

  it('reads a device from /api/stats/lead_devices (ids as strings) and moves it', async () => {
    up.reply = (req) =>
      req.method === 'GET'
        ? { status: 200, body: JSON.stringify({ total: '1', stats: [{ id: '7', lead_id: '12', tracking_id: 'vq4hdito8xpagw7v910gcvv' }] }) }
        : { status: 200, body: JSON.stringify({ device: { id: 7, lead: { id: 2 } } }) };
    const c = client();
    expect(await c.findDeviceByTrackingId('vq4hdito8xpagw7v910gcvv')).toEqual({ id: 7, contactId: 12, trackingId: 'vq4hdito8xpagw7v910gcvv' });
    expect(decodeURIComponent(up.requests.at(-1)!.url)).toBe('/api/stats/lead_devices?where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=vq4hdito8xpagw7v910gcvv');
    await c.assignDevice(7, 2);
    expect(up.requests.at(-1)).toMatchObject({ method: 'PATCH', url: '/api/devices/7/edit' });
    expect(JSON.parse(up.requests.at(-1)!.body.toString())).toEqual({ contact: 2 });
    up.reply = () => ({ status: 200, body: '{"total":"0","stats":[]}' });
    expect(await c.findDeviceByTrackingId('unknown1')).toBeNull();
  });

  it('a bounded view ends every call, retries and backoff included, at its deadline', async () => {
    up.reply = () => ({ status: 503, body: '{"errors":[{"code":503,"message":"down"}]}', delayMs: 150 });
    const c = client({ retries: 5, backoffMs: 200, timeoutMs: 5000 });
    // Each call must end within 300 / 400 ms of its deadline, counted from when the deadline's
    // signal fired (0 if it ended before): a loaded machine may run the test's own timer late,
    // which is not the client's doing.
    const abortedAt = (signal: AbortSignal): (() => number) => {
      let at: number | undefined;
      signal.addEventListener('abort', () => (at = Date.now()));
      return () => at ?? Date.now();
    };
    const controller = new AbortController();
    const firstAborted = abortedAt(controller.signal);
    setTimeout(() => controller.abort(), 400);
    const err = await expectApiError(c.bounded(controller.signal).getContact(1));
    expect(Date.now() - firstAborted()).toBeLessThan(300);
    expect([0, 503]).toContain(err.status);
    up.reply = () => ({ hang: true });
    const hang = new AbortController();
    const hangAborted = abortedAt(hang.signal);
    setTimeout(() => hang.abort(), 200);
    const timedOut = await expectApiError(c.bounded(hang.signal).getContact(1));
    expect(timedOut.name).toBe('MauticTimeoutError');
    expect(Date.now() - hangAborted()).toBeLessThan(400);
  });

  it('treats a 200 carrying errors as an error', async () => {
    up.reply = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 400, message: 'email: invalid', type: null }] }) });
    const err = await expectApiError(client().createOrUpdateContact({ email: 'a@example.com' }));
    expect(err.status).toBe(400);
    expect(err.messages).toEqual(['email: invalid']);
  });

  it('reads legacy shapes and a text/html 429', async () => {
    up.reply = () => ({ status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: 'bad thing' }) });
    expect(await expectApiError(client().addPoints(1, 2))).toMatchObject({ status: 400, type: 'invalid_request', messages: ['bad thing'] });
    up.reply = () => ({ status: 403, body: JSON.stringify({ error: { message: 'You do not have access', code: 403 } }) });
    expect(await expectApiError(client().addToSegment(1, 2))).toMatchObject({ status: 403, messages: ['You do not have access'] });
    const reset = Math.floor(Date.now() / 1000) + 3600;
    up.reply = () => ({
      status: 429,
      headers: { 'content-type': 'text/html', 'x-ratelimit-reset': String(reset) },
      body: JSON.stringify({ errors: [{ code: 429, message: 'You exceeded the rate limit of 1 API calls per hour.', details: [] }] }),
    });
    const err = await expectApiError(client().addDoNotContact(1));
    expect(err).toMatchObject({ status: 429, rateLimitResetAt: reset * 1000 });
    expect(up.requests).toHaveLength(3);
  });

  it('waits for a near X-RateLimit-Reset and retries a GET', async () => {
    let calls = 0;
    up.reply = () => {
      calls += 1;
      if (calls === 1) return { status: 429, headers: { 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1) }, body: '{"errors":[{"code":429,"message":"limit"}]}' };
      return { status: 200, body: JSON.stringify({ contact: { id: 5, fields: { all: {} } } }) };
    };
    const contact = await client({ maxRateLimitWaitMs: 5000 }).getContact(5);
    expect(contact.id).toBe(5);
    expect(up.requests).toHaveLength(2);
  });

  it('retries a GET on 5xx with backoff, bounded, but never a POST', async () => {
    up.reply = () => ({ status: 503, body: 'down' });
    const err = await expectApiError(client({ retries: 2 }).getContact(1));
    expect(err.status).toBe(503);
    expect(up.requests).toHaveLength(3);
    up.requests.length = 0;
    await expectApiError(client({ retries: 2 }).createOrUpdateContact({ email: 'a@example.com' }));
    expect(up.requests).toHaveLength(1);
    up.requests.length = 0;
    await expectApiError(client({ retries: 2 }).editContact(1, { email: 'a@example.com' }));
    expect(up.requests).toHaveLength(1);
  });

  it('times out with type timeout; a POST is sent once', async () => {
    up.reply = () => ({ hang: true });
    const err = await expectApiError(client({ retries: 1, timeoutMs: 500 }).createOrUpdateContact({ email: 'a@example.com' }));
    expect(err).toMatchObject({ status: 0, type: 'timeout' });
    expect(up.requests).toHaveLength(1);
    up.requests.length = 0;
    const get = await expectApiError(client({ retries: 1, timeoutMs: 500 }).getContact(1));
    expect(get.type).toBe('timeout');
    expect(up.requests).toHaveLength(2);
  });

  it('sends Basic credentials as Mautic expects', async () => {
    up.reply = () => ({ status: 200, body: JSON.stringify({ contact: { id: 1, fields: { all: {} } } }) });
    await client().getContact(1);
    const header = up.requests[0]!.headers['authorization']![0]!;
    expect(Buffer.from(header.replace(/^Basic /, ''), 'base64').toString()).toBe(`${BASIC_USER}:${BASIC_PASSWORD}`);
    capture.sensitive.add(header.slice(6));
  });

  it('reports an old-style OAuth error from the token endpoint', async () => {
    up.reply = (req) =>
      req.url === '/oauth/v2/token'
        ? { status: 400, body: JSON.stringify({ error: 'invalid_client', error_description: 'The client credentials are invalid' }) }
        : { status: 200, body: '{}' };
    const auth = new OAuth2ClientCredentials({ baseUrl: up.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const err = await expectApiError(new MauticRestClient({ baseUrl: up.url, auth }).getContact(1));
    expect(err).toMatchObject({ status: 400, type: 'invalid_client' });
    expect(up.requests[0]!.body.toString()).toBe(`grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`);
  });
});
