/**
 * Every call of the typed REST client against the stand-in, whose answers the conformance suite
 * holds to the recorded Mautic 5.1 exchanges (named per test), and every failure class: auth
 * (each way Mautic refuses), not found, validation with field details, rate limit with its reset,
 * server error, network and timeout. The client is the public `mautic-tracker/server` one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import {
  BasicAuth,
  MauticApiDisabledError,
  MauticApiError,
  MauticBasicAuthDisabledError,
  MauticInvalidClientError,
  MauticInvalidCredentialsError,
  MauticMissingCredentialsError,
  MauticNetworkError,
  MauticNotFoundError,
  MauticRateLimitError,
  MauticRestClient,
  MauticServerError,
  MauticTimeoutError,
  MauticTokenExpiredError,
  MauticTokenInvalidError,
  MauticValidationError,
  OAuth2ClientCredentials,
  type AuthProvider,
} from '../../src/server/index.js';
import { BASIC_PASSWORD, BASIC_USER, CLIENT_ID, CLIENT_SECRET } from './support/secrets.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const API = { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }], basicUsers: [{ username: BASIC_USER, password: BASIC_PASSWORD }] };

let mautic: Standin;
let clock = Date.now();
let client: MauticRestClient;

beforeAll(async () => {
  mautic = await startStandin({ api: API, segments: [{ name: 'Newsletter' }, { name: 'Trials' }], clock: () => clock });
});
afterAll(async () => {
  await mautic?.close();
});
beforeEach(() => {
  mautic.reset();
  clock = Date.now();
  client = new MauticRestClient({ baseUrl: mautic.url, auth: new OAuth2ClientCredentials({ baseUrl: mautic.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }) });
});

async function failure<E extends MauticApiError>(promise: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  expect(error).toBeInstanceOf(MauticApiError);
  return error as E;
}

/** A visitor's first hit, as a browser makes it: a contact with a device (track_event_new_visitor_plain). */
async function trackedVisitor(): Promise<{ contactId: number; trackingId: string }> {
  const res = await fetch(`${mautic.url}/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': CHROME },
    body: 'page_url=http%3A%2F%2Fsite.test%2F',
  });
  const json = (await res.json()) as { id: number; device_id: string };
  return { contactId: json.id, trackingId: json.device_id };
}

describe('contacts', () => {
  it('create with the upsert rule: 201, then 200 on the same id; Mautic-Version read (api_contacts_new_201, api_contacts_new_existing_email)', async () => {
    const made = await client.createOrUpdateContact({ email: 'alice@example.com', firstname: 'Alice' });
    expect(made.created).toBe(true);
    expect(made.contact.fields.all).toMatchObject({ email: 'alice@example.com', firstname: 'Alice' });
    const again = await client.createOrUpdateContact({ email: 'alice@example.com', lastname: 'Smith' });
    expect(again).toMatchObject({ created: false, contact: { id: made.contact.id } });
    expect(client.mauticVersion).toBe('5.1.0');
    expect(client.mauticMajorVersion).toBe(5);

  });

  it('get, and 404 for an unknown id (api_contacts_get_200, api_contacts_get_404)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'get@example.com' });
    const read = await client.getContact(contact.id);
    expect(read.id).toBe(contact.id);
    expect(read.fields.all.email).toBe('get@example.com');
    const missing = await failure(client.getContact(9999), MauticNotFoundError);
    expect(missing.messages).toEqual(['Item was not found.']);
    expect(missing.mauticVersion).toBe('5.1.0');
  });

  it('edit (PATCH) sets fields; a taken email is 422 with details.email; a bad email 400 with details (api_contacts_patch_*)', async () => {
    const alice = (await client.createOrUpdateContact({ email: 'alice@example.com' })).contact;
    const bob = (await client.createOrUpdateContact({ email: 'bob@example.com', firstname: 'Bob' })).contact;
    const edited = await client.editContact(bob.id, { lastname: 'Builder' });
    expect(edited.fields.all).toMatchObject({ firstname: 'Bob', lastname: 'Builder' });
    const taken = await failure(client.editContact(bob.id, { email: 'alice@example.com' }), MauticValidationError);
    expect(taken.status).toBe(422);
    expect(taken.messages).toEqual(['email: This field must be unique.']);
    expect(taken.details).toEqual({ email: ['This field must be unique.'] });
    const invalid = await failure(client.editContact(alice.id, { email: 'not-an-email' }), MauticValidationError);
    expect(invalid.status).toBe(400);
    expect(invalid.details).toEqual({ email: ['not-an-email is invalid.'] });
    await failure(client.editContact(9999, { lastname: 'X' }), MauticNotFoundError);
  });

  it('replace (PUT) empties what is not given; an unknown id creates a contact with a new id (api_contacts_put_*)', async () => {
    const bob = (await client.createOrUpdateContact({ email: 'bob@example.com', firstname: 'Bob', city: 'Paris' })).contact;
    const replaced = await client.replaceContact(bob.id, { email: 'bob@example.com', lastname: 'B' });
    expect(replaced.created).toBe(false);
    expect(mautic.contact(bob.id)?.fields).toEqual({ email: 'bob@example.com', lastname: 'B' });
    const created = await client.replaceContact(999, { email: 'new@example.com' });
    expect(created.created).toBe(true);
    expect(created.contact.id).not.toBe(999);
    await client.createOrUpdateContact({ email: 'carol@example.com' });
    await failure(client.replaceContact(bob.id, { email: 'carol@example.com' }), MauticValidationError);
  });

  it('delete, and 404 the second time (api_contacts_delete_404)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'gone@example.com' });
    await client.deleteContact(contact.id);
    expect(mautic.contact(contact.id)).toBeUndefined();
    await failure(client.deleteContact(contact.id), MauticNotFoundError);
  });

  it('list and search: total parsed from its string, start/limit/orderBy, none → {} (api_contacts_list_*)', async () => {
    for (const name of ['a', 'b', 'c']) await client.createOrUpdateContact({ email: `${name}@example.com`, firstname: name.toUpperCase() });
    const page = await client.listContacts({ search: 'example.com', limit: 2, orderBy: 'id', orderByDir: 'desc' });
    expect(page.total).toBe(3);
    expect(page.contacts.map((c) => c.fields.all.email)).toEqual(['c@example.com', 'b@example.com']);
    const next = await client.listContacts({ search: 'example.com', start: 2, limit: 2, orderBy: 'id', orderByDir: 'desc' });
    expect(next.contacts.map((c) => c.fields.all.email)).toEqual(['a@example.com']);
    const byName = await client.listContacts({ orderBy: 'firstname', orderByDir: 'desc' });
    expect(byName.contacts.map((c) => c.fields.all.firstname)).toEqual(['C', 'B', 'A']);
    expect(await client.listContacts({ search: 'email:nobody@example.com' })).toEqual({ total: 0, contacts: [] });
    expect((await client.findContactsByEmail('B@example.com')).map((c) => c.fields.all.email)).toEqual(['b@example.com']);
    await expect(client.listContacts({ limit: 201 })).rejects.toThrow(RangeError);
    await expect(client.listContacts({ orderBy: 'id; drop' })).rejects.toThrow(RangeError);
  });

  it('batch create and edit: one result per item, a bad one fails alone; more than 200 is refused unsent (api_contacts_batch_*)', async () => {
    await client.createOrUpdateContact({ email: 'alice@example.com' });
    const created = await client.batchCreateContacts([{ email: 'carol@example.com', firstname: 'Carol' }, { email: 'alice@example.com', lastname: 'Again' }, { email: 'bad-email' }]);
    expect(created.map((r) => r.status)).toEqual([201, 200, 400]);
    expect(created[0]).toMatchObject({ ok: true, created: true, contact: { fields: { all: { email: 'carol@example.com' } } } });
    expect(created[1]).toMatchObject({ ok: true, created: false });
    expect(created[2]).toEqual({ ok: false, status: 400, message: 'email: bad-email is invalid.', details: { email: ['bad-email is invalid.'] } });
    const carol = created[0]!.ok ? created[0]!.contact.id : 0;
    const edited = await client.batchEditContacts([{ id: carol, lastname: 'Batch' }, { id: 9999, lastname: 'X' }]);
    expect(edited.map((r) => r.status)).toEqual([200, 404]);
    expect(edited[1]).toMatchObject({ ok: false, message: 'Item was not found.' });
    expect(mautic.contact(carol)?.fields.lastname).toBe('Batch');
    const calls = mautic.requests.length;
    await expect(client.batchCreateContacts(Array.from({ length: 201 }, (_, i) => ({ email: `n${i}@example.com` })))).rejects.toThrow(RangeError);
    expect(mautic.requests.length).toBe(calls);
  });
});

describe('what identification leads to', () => {
  it('tags add and remove (PATCH tags, "-" removes)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'tags@example.com' });
    await client.addTags(contact.id, ['vip', 'beta']);
    expect(mautic.contact(contact.id)?.tags).toEqual(['vip', 'beta']);
    const after = await client.removeTags(contact.id, ['beta']);
    expect(mautic.contact(contact.id)?.tags).toEqual(['vip']);
    expect(after.tags?.map((t) => t.tag)).toEqual(['vip']);
    await expect(client.addTags(contact.id, ['-sneaky'])).rejects.toThrow(RangeError);
    await expect(client.addTags(contact.id, ['a,b'])).rejects.toThrow(RangeError);
  });

  it('segments add (twice is fine), remove, and 404 for an unknown segment or contact (api_segment_*)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'seg@example.com' });
    await client.addToSegment(1, contact.id);
    await client.addToSegment(1, contact.id);
    expect(mautic.contact(contact.id)?.segments).toEqual([1]);
    await client.removeFromSegment(1, contact.id);
    expect(mautic.contact(contact.id)?.segments).toEqual([]);
    await failure(client.addToSegment(999, contact.id), MauticNotFoundError);
    await failure(client.addToSegment(1, 9999), MauticNotFoundError);
  });

  it('points plus, minus, times, divide; unknown contact 404; Mautic\'s 500 for a bad delta is a MauticServerError (api_points_*)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'points@example.com' });
    await client.changePoints(contact.id, 'plus', 10);
    await client.changePoints(contact.id, 'minus', 3, { eventName: 'Manual', actionName: 'API' });
    await client.changePoints(contact.id, 'times', 2);
    await client.changePoints(contact.id, 'divide', 7);
    expect(mautic.contact(contact.id)?.points).toBe(2);
    await client.addPoints(contact.id, 5);
    expect(mautic.contact(contact.id)?.points).toBe(7);
    await failure(client.changePoints(9999, 'plus', 1), MauticNotFoundError);
    await expect(client.changePoints(contact.id, 'foo' as 'plus', 2)).rejects.toThrow(RangeError);
    await expect(client.changePoints(contact.id, 'divide', 0)).rejects.toThrow(RangeError);
    // What the client never sends, sent by hand: Mautic's answers for it.
    await failure(client.request('POST', `/api/contacts/${contact.id}/points/foo/2`), MauticValidationError);
    const crash = await failure(client.request('POST', `/api/contacts/${contact.id}/points/plus/abc`), MauticServerError);
    expect(crash.status).toBe(500);
    expect(crash.mauticVersion).toBeNull();
  });

  it('Do-Not-Contact add and remove (recordFound), 404 for an unknown contact (api_dnc_*)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'dnc@example.com' });
    await client.addDoNotContact(contact.id, 'email', { reason: 3, comments: 'via api' });
    expect(mautic.contact(contact.id)?.doNotContact).toMatchObject([{ channel: 'email', reason: 3, comments: 'via api' }]);
    expect(await client.removeDoNotContact(contact.id)).toEqual({ recordFound: true });
    expect(await client.removeDoNotContact(contact.id)).toEqual({ recordFound: false });
    await failure(client.addDoNotContact(9999), MauticNotFoundError);
  });

  it('UTM add, 404 for an unknown contact (api_utm_add_*)', async () => {
    const { contact } = await client.createOrUpdateContact({ email: 'utm@example.com' });
    await client.addUtmTags(contact.id, { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring', url: 'http://site.test/x' });
    expect(mautic.contact(contact.id)?.utm).toMatchObject([{ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring', source: 'api' }]);
    await failure(client.addUtmTags(9999, { utm_source: 'x' }), MauticNotFoundError);
  });

  it('devices: a contact\'s, one by id, all; found by tracking id and moved to another contact (api_devices_*, api_contacts_devices, api_stats_lead_devices_by_tracking_id)', async () => {
    const visitor = await trackedVisitor();
    const [own] = await client.listContactDevices(visitor.contactId);
    expect(own).toMatchObject({ contactId: visitor.contactId, device: 'desktop', clientInfo: { type: 'browser', name: 'Chrome' } });
    const byId = await client.getDevice(own!.id);
    expect(byId).toMatchObject({ id: own!.id, contactId: visitor.contactId, deviceOsName: 'GNU/Linux' });
    const all = await client.listDevices();
    expect(all.total).toBe(1);
    const stat = await client.findDeviceByTrackingId(visitor.trackingId);
    expect(stat).toEqual({ id: own!.id, contactId: visitor.contactId, trackingId: visitor.trackingId });
    const { contact: alice } = await client.createOrUpdateContact({ email: 'alice@example.com' });
    await client.assignDevice(own!.id, alice.id);
    expect((await client.getDevice(own!.id)).contactId).toBe(alice.id);
    expect(await client.findDeviceByTrackingId('unknownunknown')).toBeNull();
    await failure(client.getDevice(9999), MauticNotFoundError);
  });
});

describe('each failure class', () => {
  let basicOff: Standin;
  let apiOff: Standin;
  let limited: Standin;
  beforeAll(async () => {
    [basicOff, apiOff, limited] = await Promise.all([
      startStandin({ api: { ...API, basicAuth: false } }),
      startStandin({ api: { ...API, enabled: false } }),
      startStandin({ api: { ...API, rateLimitPerHour: 2 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([basicOff?.close(), apiOff?.close(), limited?.close()]);
  });

  const basicClient = (url: string, password = BASIC_PASSWORD): MauticRestClient =>
    new MauticRestClient({ baseUrl: url, auth: new BasicAuth({ username: BASIC_USER, password }) });
  /** Always the same bearer: what a provider does whose tokens Mautic keeps refusing. */
  const fixedBearer = (token: string): AuthProvider => ({ refreshable: true, secrets: [], authorization: async () => `Bearer ${token}`, invalidate: () => undefined });

  it('auth: no credentials, wrong password, Basic off, API off (bearer and token endpoint), bad client, bad and expired bearer (api_no_auth, api_basic_*, api_disabled_*, oauth_token_*, api_bearer_*)', async () => {
    const none = await failure(new MauticRestClient({ baseUrl: mautic.url, auth: { refreshable: false, secrets: [], authorization: async () => '', invalidate: () => undefined } }).getContact(1), MauticMissingCredentialsError);
    expect(none.reason).toBe('missing_credentials');
    expect(none.mauticVersion).toBeNull();
    expect((await failure(basicClient(mautic.url, 'wrong-password').getContact(1), MauticInvalidCredentialsError)).reason).toBe('invalid_credentials');
    expect((await failure(basicClient(basicOff.url).getContact(1), MauticBasicAuthDisabledError)).status).toBe(403);
    expect((await failure(basicClient(apiOff.url).getContact(1), MauticApiDisabledError)).reason).toBe('api_disabled');
    const offToken = new OAuth2ClientCredentials({ baseUrl: apiOff.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await failure(new MauticRestClient({ baseUrl: apiOff.url, auth: offToken }).getContact(1), MauticApiDisabledError);
    const wrongSecret = new OAuth2ClientCredentials({ baseUrl: mautic.url, clientId: CLIENT_ID, clientSecret: 'not-the-secret' });
    const bad = await failure(new MauticRestClient({ baseUrl: mautic.url, auth: wrongSecret }).getContact(1), MauticInvalidClientError);
    expect(bad.messages).toEqual(['The client credentials are invalid']);
    expect(bad.message).not.toContain('not-the-secret');

    const invalid = await failure(new MauticRestClient({ baseUrl: mautic.url, auth: fixedBearer('made-up-token') }).getContact(1), MauticTokenInvalidError);
    expect(invalid.messages).toEqual(['The access token provided is invalid.']);
    const issued = (await (await fetch(`${mautic.url}/oauth/v2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }) })).json()) as { access_token: string };
    clock += 3601_000;
    const expired = await failure(new MauticRestClient({ baseUrl: mautic.url, auth: fixedBearer(issued.access_token) }).getContact(1), MauticTokenExpiredError);
    expect(expired.reason).toBe('token_expired');
  });

  it('rate limit: 429 with the reset from X-RateLimit-Reset, a write never repeated (api_rate_limit_429)', async () => {
    const c = basicClient(limited.url);
    await c.listContacts();
    await c.listContacts();
    const before = limited.requests.length;
    const limitedError = await failure(c.createOrUpdateContact({ email: 'x@example.com' }), MauticRateLimitError);
    expect(limited.requests.length).toBe(before + 1);
    expect(limitedError.rateLimitResetAt).toBeGreaterThan(Date.now() + 60_000);
    expect(limitedError.retryAfterMs()).toBeGreaterThan(60_000);
    expect(limitedError.mauticVersion).toBeNull();
  });

  it('network: nothing listens; timeout: an answer that never comes, GETs retried within the call deadline only', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await failure(basicClient(`http://127.0.0.1:${port}`).getContact(1), MauticNetworkError);

    // The methods of the requests that reached the server (which never answers). Counted by
    // method: a GET the client gave up on can reach a loaded server after the next call began.
    const arrived: string[] = [];
    const silent: Server = createServer((req) => {
      arrived.push(req.method ?? '');
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const c = new MauticRestClient({ baseUrl: url, auth: new BasicAuth({ username: BASIC_USER, password: BASIC_PASSWORD }), timeoutMs: 150, callTimeoutMs: 400, backoffMs: 10 });
      const started = Date.now();
      await failure(c.getContact(1), MauticTimeoutError);
      expect(Date.now() - started).toBeLessThan(1000);
      // The client sent at least two; a GET it gave up on can reach a loaded server after the call ended.
      const gets = () => arrived.filter((method) => method === 'GET').length;
      for (let waited = 0; gets() < 2 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(gets()).toBeGreaterThanOrEqual(2);
      await failure(c.editContact(1, { city: 'X' }), MauticTimeoutError);
      // A write is never repeated: once it has arrived, no second one comes.
      const patches = () => arrived.filter((method) => method === 'PATCH').length;
      for (let waited = 0; patches() === 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(patches()).toBe(1);
      // One deadline for a whole operation: the view's, shorter than the call's.
      const quick = Date.now();
      await failure(c.withDeadline(120).getContact(1), MauticTimeoutError);
      expect(Date.now() - quick).toBeLessThan(400);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
