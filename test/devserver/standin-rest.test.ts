/**
 * The stand-in's REST side over real HTTP (docs/protocol.md §7): OAuth2, Basic, contacts with Mautic's
 * create-or-update and overwrite rules, its unique-field validator (422, never a merge), list and
 * search, batch, delete, error shapes, rate limiter, Mautic-Version.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { postHitJson } from './standin-helpers.js';

const CLIENT = { id: 'client-1', secret: 's3cret-value' };
const NOT_FOUND = { errors: [{ code: 404, message: 'Item was not found.', details: [] }] };
const CONTACT_NOT_FOUND = { errors: [{ code: 404, message: 'Contact not found.', details: [] }] };
const EXPIRED_TOKEN = { errors: [{ message: 'The access token provided has expired.', code: 401, type: 'invalid_grant' }] };
const NOT_UNIQUE = {
  errors: [{ code: 422, message: 'email: This field must be unique.', details: { email: ['This field must be unique.'] } }],
};
const INVALID_TOKEN = { errors: [{ message: 'The access token provided is invalid.', code: 401, type: 'invalid_grant' }] };

interface ContactBody {
  contact: {
    id: number;
    points: number;
    tags: { id: number; tag: string }[];
    fields: { all: Record<string, unknown> };
    [key: string]: unknown;
  };
}

function tokenRequest(mautic: Standin, body: string): Promise<Response> {
  return fetch(`${mautic.url}/oauth/v2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
}

async function token(mautic: Standin): Promise<string> {
  const response = await tokenRequest(
    mautic,
    `grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=${CLIENT.secret}`,
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

function api(mautic: Standin, accessToken: string, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${accessToken}` } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  return fetch(`${mautic.url}${path}`, init);
}

describe('stand-in OAuth2 and Basic auth', () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({
      clock: () => now,
      api: { clients: [CLIENT], basicUsers: [{ username: 'admin', password: 'pw' }], tokenTtlSeconds: 60 },
    });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('issues a bearer token for client_credentials', async () => {
    const response = await tokenRequest(
      mautic,
      `grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=${CLIENT.secret}`,
    );
    expect(response.status).toBe(200);
    // The token endpoint is not an API controller: no Mautic-Version (docs/protocol.md §10.3).
    expect(response.headers.get('mautic-version')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store, private');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 60, token_type: 'bearer', scope: null });
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('answers a bad client with 400 invalid_client in the rewritten errors shape', async () => {
    const response = await tokenRequest(mautic, `grant_type=client_credentials&client_id=${CLIENT.id}&client_secret=wrong`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The client credentials are invalid', code: 400, type: 'invalid_client' }],
    });
    const unknown = await tokenRequest(mautic, 'grant_type=client_credentials&client_id=nobody&client_secret=x');
    expect(unknown.status).toBe(400);
  });

  it('rejects a missing grant type', async () => {
    const response = await tokenRequest(mautic, `client_id=${CLIENT.id}&client_secret=${CLIENT.secret}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { type: string }[] }).errors[0]?.type).toBe('invalid_request');
  });

  it('accepts a fresh token and rejects it once it expired (401 invalid_grant, "has expired")', async () => {
    const accessToken = await token(mautic);
    mautic.reset(); // tokens are forgotten on reset, so get a new one
    const fresh = await token(mautic);
    expect((await api(mautic, accessToken, 'GET', '/api/contacts/1')).status).toBe(401);
    expect((await api(mautic, fresh, 'GET', '/api/contacts/1')).status).toBe(404);
    now += 59_000;
    expect((await api(mautic, fresh, 'GET', '/api/contacts/1')).status).toBe(404);
    now += 2_000;
    const expired = await api(mautic, fresh, 'GET', '/api/contacts/1');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('mautic-version')).toBeNull();
    expect(await expired.json()).toEqual(EXPIRED_TOKEN);
  });

  it('rejects an unknown token and a missing Authorization header', async () => {
    const unknown = await api(mautic, 'nope', 'GET', '/api/contacts/1');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(INVALID_TOKEN);
    const missing = await fetch(`${mautic.url}/api/contacts/1`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(401);
  });

  it('accepts HTTP Basic for a configured user and rejects a wrong password', async () => {
    const good = await fetch(`${mautic.url}/api/contacts/new`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'basic@example.com' }),
    });
    expect(good.status).toBe(201);
    expect(mautic.apiCalls.at(-1)).toMatchObject({ operation: 'contact.new', status: 201, caller: 'basic:admin' });
    const bad = await fetch(`${mautic.url}/api/contacts/1`, {
      headers: { Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    });
    expect(bad.status).toBe(401);
  });

  it('never records a secret: Authorization and client_secret are redacted', async () => {
    const accessToken = await token(mautic);
    await api(mautic, accessToken, 'GET', '/api/contacts/1');
    const recorded = JSON.stringify(mautic.snapshot());
    expect(recorded).not.toContain(CLIENT.secret);
    expect(recorded).not.toContain(accessToken);
    expect(mautic.requests[1]?.headers.authorization).toBe('Bearer [redacted]');
    expect(mautic.apiCalls.map((call) => call.caller)).toEqual([`oauth:${CLIENT.id}`, `oauth:${CLIENT.id}`]);
  });
});

describe('stand-in Basic auth off by default', () => {
  it('refuses Basic credentials with Mautic\'s 403 when Basic auth is off (no Basic users configured)', async () => {
    const mautic = await startStandin({ api: { clients: [CLIENT] } });
    try {
      const response = await fetch(`${mautic.url}/api/contacts/1`, {
        headers: { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        errors: [{ message: "Basic Auth disabled. You need to enable HTTP basic auth in the API settings of Mautic's Configuration.", code: 403, type: 'access_denied' }],
      });
    } finally {
      await mautic.close();
    }
  });
});

describe('stand-in contacts API', () => {
  let mautic: Standin;
  let accessToken: string;
  beforeAll(async () => {
    mautic = await startStandin({ api: { clients: [CLIENT] } });
  });
  afterAll(() => mautic.close());
  beforeEach(async () => {
    mautic.reset();
    accessToken = await token(mautic);
  });

  function call(method: string, path: string, body?: unknown): Promise<Response> {
    return api(mautic, accessToken, method, path, body);
  }

  async function contactOf(response: Response): Promise<ContactBody['contact']> {
    return ((await response.json()) as ContactBody).contact;
  }

  it('GET /api/contacts/{id} answers 404 with the exact error shape and Mautic-Version', async () => {
    const response = await call('GET', '/api/contacts/42');
    expect(response.status).toBe(404);
    expect(response.headers.get('mautic-version')).toMatch(/^5\./);
    expect(await response.json()).toEqual(NOT_FOUND);
    expect((await call('GET', '/api/contacts/abc')).status).toBe(404);
  });

  it('POST /api/contacts/new creates (201, Location) and then updates the same email (200)', async () => {
    const created = await call('POST', '/api/contacts/new', { email: 'jane@example.com', firstname: 'Jane' });
    expect(created.status).toBe(201);
    const contact = await contactOf(created);
    expect(created.headers.get('location')).toBe(`${mautic.url}/api/contacts/${contact.id}`);
    expect(contact.fields.all).toMatchObject({ id: String(contact.id), email: 'jane@example.com', firstname: 'Jane', lastname: null });

    const updated = await call('POST', '/api/contacts/new', { email: 'JANE@example.com', lastname: 'Doe' });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('location')).toBeNull();
    expect((await contactOf(updated)).id).toBe(contact.id);
    expect(mautic.contacts).toHaveLength(1);
    // The match ignores case; the update writes the value it was given.
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'JANE@example.com', firstname: 'Jane', lastname: 'Doe' });

    const fetched = await call('GET', `/api/contacts/${contact.id}`);
    expect(fetched.status).toBe(200);
    expect((await contactOf(fetched)).fields.all.lastname).toBe('Doe');
  });

  it('POST /api/contacts/new and PUT refuse an email another contact has (422), and change nothing', async () => {
    const first = await contactOf(await call('POST', '/api/contacts/new', { email: 'dup@example.com', city: 'Oslo' }));
    const fresh = await call('PUT', '/api/contacts/999/edit', { email: 'dup@example.com' });
    expect(fresh.status).toBe(422);
    expect(await fresh.json()).toEqual(NOT_UNIQUE);
    expect(mautic.contacts).toHaveLength(1);
    const other = await contactOf(await call('POST', '/api/contacts/new', { email: 'other@example.com' }));
    const replaced = await call('PUT', `/api/contacts/${other.id}/edit`, { email: 'DUP@example.com' });
    expect(replaced.status).toBe(422);
    expect(mautic.contact(other.id)?.fields).toEqual({ email: 'other@example.com' });
    expect(mautic.contact(first.id)?.fields).toEqual({ email: 'dup@example.com', city: 'Oslo' });
  });

  it('does not overwrite with blanks or zeros unless overwriteWithBlank is true', async () => {
    await call('POST', '/api/contacts/new', { email: 'o@example.com', firstname: 'Olga', city: 'Oslo', points: 5 });
    await call('POST', '/api/contacts/new', { email: 'o@example.com', firstname: '', city: null, phone: 0, points: 0 });
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'o@example.com', firstname: 'Olga', city: 'Oslo' });
    expect(mautic.contacts[0]?.points).toBe(5);
    await call('POST', '/api/contacts/new', { email: 'o@example.com', firstname: '', city: null, points: 0, overwriteWithBlank: true });
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'o@example.com' });
    expect(mautic.contacts[0]?.points).toBe(0);
  });

  it('applies tags from an array or a comma string, "-x" removes', async () => {
    const created = await contactOf(await call('POST', '/api/contacts/new', { email: 't@example.com', tags: ['a', 'b', 'c'] }));
    expect(created.tags.map((tag) => tag.tag)).toEqual(['a', 'b', 'c']);
    const updated = await contactOf(await call('POST', '/api/contacts/new', { email: 't@example.com', tags: '-b, d' }));
    expect(updated.tags.map((tag) => tag.tag)).toEqual(['a', 'c', 'd']);
    expect(updated.tags[0]?.id).toBe(created.tags[0]?.id);
  });

  it('accepts ipAddress, lastActive and owner', async () => {
    await call('POST', '/api/contacts/new', {
      email: 'i@example.com',
      ipAddress: '203.0.113.5',
      lastActive: '2026-02-03T04:05:06+00:00',
      owner: 3,
    });
    expect(mautic.contacts[0]).toMatchObject({
      ipAddresses: ['203.0.113.5'],
      lastActive: '2026-02-03T04:05:06.000Z',
      owner: 3,
    });
  });

  it('answers 400 with details for an invalid email, and for malformed JSON', async () => {
    const invalid = await call('POST', '/api/contacts/new', { email: 'not-an-email' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      errors: [{ code: 400, message: 'email: not-an-email is invalid.', details: { email: ['not-an-email is invalid.'] } }],
    });
    const malformed = await fetch(`${mautic.url}/api/contacts/new`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: '{"email":',
    });
    expect(malformed.status).toBe(400);
    expect(mautic.contacts).toHaveLength(0);
  });

  it('accepts form-encoded bodies too', async () => {
    const response = await fetch(`${mautic.url}/api/contacts/new`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'email=form%40example.com&firstname=Form',
    });
    expect(response.status).toBe(201);
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'form@example.com', firstname: 'Form' });
  });

  it('PATCH /api/contacts/{id}/edit answers 404 for a missing contact', async () => {
    const response = await call('PATCH', '/api/contacts/77/edit', { firstname: 'X' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(NOT_FOUND);
    expect(mautic.contacts).toHaveLength(0);
  });

  it('PATCH with another contact\'s email answers 422 and merges nothing (Mautic 5.1)', async () => {
    const a = await postHitJson(mautic, { page_url: 'http://site.test/a', tags: 'visitor-a' });
    const b = await postHitJson(mautic, { page_url: 'http://site.test/b', tags: 'visitor-b' });
    const aId = a.id ?? 0;
    const bId = b.id ?? 0;
    expect((await call('PATCH', `/api/contacts/${bId}/edit`, { email: 'jane@example.com', firstname: 'Jane' })).status).toBe(200);

    const refused = await call('PATCH', `/api/contacts/${aId}/edit`, { email: 'jane@example.com', lastname: 'Doe' });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('mautic-version')).not.toBeNull();
    expect(await refused.json()).toEqual(NOT_UNIQUE);
    expect(mautic.contacts.map((c) => c.id)).toEqual([aId, bId]);
    expect(mautic.contact(aId)?.fields).toEqual({});
    expect(mautic.contact(aId)?.mergedFrom).toEqual([]);
    expect(mautic.merges).toEqual([]);
    // Each browser still tracks as its own contact.
    const again = await postHitJson(mautic, { page_url: 'http://site.test/c', mautic_device_id: a.device_id ?? '' });
    expect(again.id).toBe(aId);
  });

  it('PATCH with the contact\'s own email is fine', async () => {
    const created = await contactOf(await call('POST', '/api/contacts/new', { email: 'own@example.com' }));
    const patched = await call('PATCH', `/api/contacts/${created.id}/edit`, { email: 'OWN@example.com', firstname: 'O' });
    expect(patched.status).toBe(200);
  });

  it('PATCH without a conflicting email only edits', async () => {
    const created = await contactOf(await call('POST', '/api/contacts/new', { email: 'p@example.com', city: 'Rome' }));
    const patched = await call('PATCH', `/api/contacts/${created.id}/edit`, { firstname: 'Pia', city: '' });
    expect(patched.status).toBe(200);
    expect(mautic.contact(created.id)?.fields).toEqual({ email: 'p@example.com', city: 'Rome', firstname: 'Pia' });
    expect(mautic.contact(created.id)?.mergedFrom).toEqual([]);
  });

  it('PUT replaces an existing contact and creates a missing one', async () => {
    const created = await contactOf(
      await call('POST', '/api/contacts/new', { email: 'r@example.com', city: 'Riga', tags: ['old'] }),
    );
    const replaced = await call('PUT', `/api/contacts/${created.id}/edit`, { email: 'r@example.com', firstname: 'Rita', tags: ['new'] });
    expect(replaced.status).toBe(200);
    expect(mautic.contact(created.id)?.fields).toEqual({ email: 'r@example.com', firstname: 'Rita' });
    expect(mautic.contact(created.id)?.tags).toEqual(['new']);

    const fresh = await call('PUT', '/api/contacts/5000/edit', { email: 'new@example.com' });
    expect(fresh.status).toBe(201);
    const contact = await contactOf(fresh);
    // A new id, not the path's.
    expect(contact.id).toBe(created.id + 1);
    expect(fresh.headers.get('location')).toBe(`${mautic.url}/api/contacts/${contact.id}`);
    expect(mautic.contacts).toHaveLength(2);
  });

  it('adds UTM tags, segment membership, points and do-not-contact', async () => {
    const { id } = await contactOf(await call('POST', '/api/contacts/new', { email: 'u@example.com' }));
    const utm = await call('POST', `/api/contacts/${id}/utm/add`, { utm_source: 'crm', utm_campaign: 'q1', url: 'https://x.test/' });
    expect(utm.status).toBe(200);
    expect(mautic.contact(id)?.utm).toEqual([
      expect.objectContaining({ utm_source: 'crm', utm_campaign: 'q1', url: 'https://x.test/', source: 'api' }),
    ]);

    const created = await call('POST', '/api/segments/new', { name: 'Customers' });
    expect(created.status).toBe(201);
    const segmentId = ((await created.json()) as { list: { id: number } }).list.id;
    const segment = await call('POST', `/api/segments/${segmentId}/contact/${id}/add`);
    expect(segment.status).toBe(200);
    expect(await segment.json()).toEqual({ success: 1 });
    expect(mautic.contact(id)?.segments).toEqual([segmentId]);
    expect((await call('POST', `/api/segments/${segmentId + 1}/contact/${id}/add`)).status).toBe(404);

    const points = await call('POST', `/api/contacts/${id}/points/plus/15`);
    expect(await points.json()).toEqual({ success: 1 });
    expect(mautic.contact(id)?.points).toBe(15);

    const dnc = await call('POST', `/api/contacts/${id}/dnc/email/add`, { reason: 1, comments: 'unsubscribed via CRM' });
    expect(dnc.status).toBe(200);
    expect(mautic.contact(id)?.doNotContact).toEqual([
      expect.objectContaining({ channel: 'email', reason: 1, comments: 'unsubscribed via CRM' }),
    ]);

    for (const path of ['/api/contacts/999/utm/add', '/api/contacts/999/dnc/email/add']) {
      const missing = await call('POST', path, {});
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual(NOT_FOUND);
    }
    // The points and segment controllers word it their own way (docs/protocol.md §10.8).
    for (const path of [`/api/segments/${segmentId}/contact/999/add`, '/api/contacts/999/points/plus/1']) {
      const missing = await call('POST', path, {});
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual(CONTACT_NOT_FOUND);
    }
  });

  it('POST /api/contacts/batch/new handles up to 200 items and refuses more', async () => {
    await call('POST', '/api/contacts/new', { email: 'b1@example.com' });
    const batch = await call('POST', '/api/contacts/batch/new', [
      { email: 'b1@example.com', firstname: 'One' },
      { email: 'b2@example.com' },
      { email: 'broken' },
    ]);
    expect(batch.status).toBe(201);
    const body = (await batch.json()) as { contacts: unknown[]; statusCodes: number[]; errors: Record<string, unknown> };
    expect(body.statusCodes).toEqual([200, 201, 400]);
    expect(body.contacts).toHaveLength(2);
    expect(Object.keys(body.errors)).toEqual(['2']);

    const tooMany = Array.from({ length: 201 }, (_, i) => ({ email: `m${i}@example.com` }));
    const refused = await call('POST', '/api/contacts/batch/new', tooMany);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      errors: [{ code: 400, message: 'A max of 200 entities are supported at a time.', details: [] }],
    });
    expect(mautic.contacts).toHaveLength(2);
  });

  it('answers a path no route matches with the router\'s 404 (type null, no details, no Mautic-Version)', async () => {
    const unknown = await call('GET', '/api/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('mautic-version')).toBeNull();
    expect(await unknown.json()).toEqual({ errors: [{ message: 'Requested URL not found: /api/nothing', code: 404, type: null }] });
    const merge = await call('POST', '/api/contacts/1/merge', {});
    expect(merge.status).toBe(404);
  });

  it('records each API call for the dashboard', async () => {
    const { id } = await contactOf(await call('POST', '/api/contacts/new', { email: 'rec@example.com' }));
    await call('PATCH', `/api/contacts/${id}/edit`, { firstname: 'Rec' });
    expect(mautic.apiCalls.map((c) => [c.operation, c.status, c.contactId])).toEqual([
      ['token', 200, null],
      ['contact.new', 201, id],
      ['contact.edit', 200, id],
    ]);
  });

  it("injects failures on route 'api' without touching tracking", async () => {
    mautic.inject({ route: 'api', status: 500, times: 1 });
    const failed = await call('GET', '/api/contacts/1');
    expect(failed.status).toBe(500);
    const hit = await postHitJson(mautic, { page_url: 'x' });
    expect(hit.success).toBe(1);
    expect((await call('GET', `/api/contacts/${hit.id}`)).status).toBe(200);
  });
});

describe('stand-in API body limit', () => {
  it('answers an oversized API body with 413 in the errors shape and creates nothing', async () => {
    const mautic = await startStandin({ maxBodyBytes: 2048, api: { clients: [CLIENT] } });
    try {
      const accessToken = await token(mautic);
      const response = await api(mautic, accessToken, 'POST', '/api/contacts/new', { email: 'big@example.com', notes: 'x'.repeat(4096) });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(413);
      expect(mautic.contacts).toHaveLength(0);
    } finally {
      await mautic.close();
    }
  });
});

describe('stand-in API rate limiter', () => {
  let now = Date.parse('2026-03-01T10:00:00Z');
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ clock: () => now, api: { clients: [CLIENT], rateLimitPerHour: 2, tokenTtlSeconds: 7200 } });
  });
  afterAll(() => mautic.close());

  it('answers 429 with the §7 body and X-RateLimit headers (no Retry-After), per token per hour', async () => {
    const accessToken = await token(mautic);
    const reset = String(Math.ceil(now / 1000) + 3600);
    const first = await api(mautic, accessToken, 'GET', '/api/contacts/1');
    expect(first.status).toBe(404);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(first.headers.get('x-ratelimit-reset')).toBe(reset);
    now += 1000;
    const second = await api(mautic, accessToken, 'GET', '/api/contacts/1');
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    const third = await api(mautic, accessToken, 'GET', '/api/contacts/1');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBeNull();
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(third.headers.get('x-ratelimit-reset')).toBe(reset);
    expect(third.headers.get('mautic-version')).toBeNull();
    expect(await third.json()).toEqual({
      errors: [{ code: 429, message: 'You exceeded the rate limit of 2 API calls per hour.', details: [] }],
    });

    // Another token has its own window; the token endpoint itself is not limited.
    const other = await token(mautic);
    expect((await api(mautic, other, 'GET', '/api/contacts/1')).status).toBe(404);

    // After the hour the first token gets a new window.
    now += 3600 * 1000;
    const later = await api(mautic, accessToken, 'GET', '/api/contacts/1');
    expect(later.status).toBe(404);
    expect(later.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(Number(later.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Number(reset));
  });
});

describe('stand-in contact list, search, batch edit and delete', () => {
  let mautic: Standin;
  let accessToken: string;
  beforeAll(async () => {
    mautic = await startStandin({ api: { clients: [CLIENT] } });
  });
  afterAll(() => mautic.close());
  beforeEach(async () => {
    mautic.reset();
    accessToken = await token(mautic);
    for (const [email, firstname, company] of [
      ['alice@example.com', 'Alice', 'Acme'],
      ['bob@example.com', 'Bob', ''],
      ['carol@other.test', 'Carol', 'Example Corp'],
    ]) {
      await api(mautic, accessToken, 'POST', '/api/contacts/new', { email, firstname, company });
    }
  });

  async function list(query: string): Promise<{ total: string; contacts: Record<string, Record<string, unknown>> }> {
    const response = await api(mautic, accessToken, 'GET', `/api/contacts${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('mautic-version')).not.toBeNull();
    return (await response.json()) as { total: string; contacts: Record<string, Record<string, unknown>> };
  }

  it('answers {"total":"<string>","contacts":{<id>:…}} and {} when nothing matches', async () => {
    const all = await list('');
    expect(all.total).toBe('3');
    expect(Object.keys(all.contacts)).toEqual(['1', '2', '3']);
    expect(await list('?search=email:nobody@example.com')).toEqual({ total: '0', contacts: {} });
  });

  it('searches email: exactly (ignoring case) and bare terms in email, name and company', async () => {
    expect(Object.keys((await list('?search=email:BOB@example.com')).contacts)).toEqual(['2']);
    expect(Object.keys((await list('?search=email:bob')).contacts)).toEqual([]);
    expect(Object.keys((await list('?search=email:%25@example.com')).contacts)).toEqual(['1', '2']);
    // "example" is in two emails and in Carol's company.
    expect((await list('?search=example')).total).toBe('3');
    expect(Object.keys((await list('?search=acme')).contacts)).toEqual(['1']);
    expect(Object.keys((await list('?search=!email:alice@example.com')).contacts)).toEqual(['2', '3']);
  });

  it('pages with start/limit (total counts every match) and orders with orderBy/orderByDir', async () => {
    const page = await list('?search=example&limit=1&start=1');
    expect(page.total).toBe('3');
    expect(Object.keys(page.contacts)).toEqual(['2']);
    const newest = await list('?limit=1&orderBy=id&orderByDir=desc');
    expect(Object.keys(newest.contacts)).toEqual(['3']);
    const byName = await list('?limit=1&orderBy=firstname&orderByDir=DESC');
    expect(byName.contacts['3']?.id).toBe(3);
  });

  it('minimal=1 leaves out everything but the core entity keys and fields', async () => {
    const full = (await list('?search=email:alice@example.com')).contacts['1'];
    const minimal = (await list('?search=email:alice@example.com&minimal=1')).contacts['1'];
    expect(full).toHaveProperty('tags');
    expect(minimal).not.toHaveProperty('tags');
    expect(minimal).not.toHaveProperty('ipAddresses');
    expect(minimal?.fields).toEqual(full?.fields);
  });

  it('PATCH /api/contacts/batch/edit answers 200 with a 404 entry for an unknown id', async () => {
    const response = await api(mautic, accessToken, 'PATCH', '/api/contacts/batch/edit', [
      { id: 1, lastname: 'Batch' },
      { id: 9999, lastname: 'X' },
      { id: 2, email: 'alice@example.com' },
    ]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { contacts: { id: number }[]; statusCodes: number[]; errors: Record<string, unknown> };
    expect(body.statusCodes).toEqual([200, 404, 422]);
    expect(body.contacts.map((contact) => contact.id)).toEqual([1]);
    expect(body.errors).toEqual({
      '1': { message: 'Item was not found.', code: 404, type: 'api' },
      '2': { code: 422, message: 'email: This field must be unique.', details: { email: ['This field must be unique.'] }, type: null },
    });
    expect(mautic.contact(1)?.fields.lastname).toBe('Batch');
    expect(mautic.contact(2)?.fields.email).toBe('bob@example.com');
    const tooMany = Array.from({ length: 201 }, (_, i) => ({ id: 1, lastname: `n${i}` }));
    expect((await api(mautic, accessToken, 'PATCH', '/api/contacts/batch/edit', tooMany)).status).toBe(400);
  });

  it('DELETE /api/contacts/{id}/delete answers the contact, then 404', async () => {
    const deleted = await api(mautic, accessToken, 'DELETE', '/api/contacts/2/delete');
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as ContactBody).contact.fields.all.email).toBe('bob@example.com');
    expect(mautic.contacts.map((contact) => contact.id)).toEqual([1, 3]);
    const again = await api(mautic, accessToken, 'DELETE', '/api/contacts/2/delete');
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual(NOT_FOUND);
  });
});
