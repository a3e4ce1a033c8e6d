/**
 * The typed client against the answers of the real Mautic 5.1 itself: a loopback server replays
 * each recorded exchange (status, headers and body as recorded) and the test checks what the
 * client makes of it, and that it sent the recorded request's method and path. Complements the
 * stand-in tests (rest-contacts-api): here nothing is our own reproduction of Mautic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicAuth,
  MauticApiDisabledError,
  MauticBasicAuthDisabledError,
  MauticInvalidClientError,
  MauticInvalidCredentialsError,
  MauticMissingCredentialsError,
  MauticNotFoundError,
  MauticRateLimitError,
  MauticRestClient,
  MauticServerError,
  MauticTokenExpiredError,
  MauticTokenInvalidError,
  MauticUnauthorizedClientError,
  MauticValidationError,
  OAuth2ClientCredentials,
  type MauticApiError,
} from '../../src/server/index.js';
import { loadExchanges, type Exchange } from '../conformance/exchanges.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';

const exchanges = new Map(loadExchanges().map((e) => [e.name, e]));
let upstream: FakeUpstream;
let current: Exchange | null = null;

beforeAll(async () => {
  upstream = await startFakeUpstream(() => {
    const answer = current!.response;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) if (name.toLowerCase() !== 'content-length') headers[name] = value;
    return { status: answer.status, headers, body: typeof answer.body === 'string' ? answer.body : '' };
  });
});
afterAll(async () => {
  await upstream?.close();
});

/** A client whose every request is answered with the recorded `name`. */
function replaying(name: string, options: { auth?: 'basic' | 'oauth' } = {}): MauticRestClient {
  const exchange = exchanges.get(name);
  if (!exchange) throw new Error(`no recorded exchange ${name}`);
  current = exchange;
  upstream.requests.length = 0;
  const auth = options.auth === 'oauth'
    ? new OAuth2ClientCredentials({ baseUrl: upstream.url, clientId: 'id', clientSecret: 'secret-value' })
    : new BasicAuth({ username: 'u', password: 'password-value' });
  return new MauticRestClient({ baseUrl: upstream.url, auth, retries: 0 });
}

/** The request the client sent matches the recorded one's method and path (query aside). */
function sentAsRecorded(name: string): void {
  const recorded = exchanges.get(name)!.request;
  const sent = upstream.requests.at(-1)!;
  expect(sent.method, name).toBe(recorded.method);
  expect(sent.url.split('?')[0], name).toBe(recorded.path.split('?')[0]);
}

async function failsAs<E extends MauticApiError>(name: string, call: (c: MauticRestClient) => Promise<unknown>, kind: new (...a: never[]) => E, auth?: 'basic' | 'oauth'): Promise<E> {
  const error = await call(replaying(name, { auth })).then(() => null, (e: unknown) => e);
  expect(error, name).toBeInstanceOf(kind);
  return error as E;
}

describe('contacts, as Mautic 5.1 answered', () => {
  it('get, list, search: ids, fields.all, total from its string, pages keyed by id', async () => {
    let c = replaying('api_contacts_get_200');
    const contact = await c.getContact(2);
    expect(contact).toMatchObject({ id: 2, fields: { all: { email: 'alice@example.com', firstname: 'Alice' } } });
    expect(contact.tags).toEqual([{ id: 2, tag: 'api-tag', description: null }]);
    expect(c.mauticVersion).toBe('5.1.0');
    sentAsRecorded('api_contacts_get_200');

    c = replaying('api_contacts_list_order');
    const page = await c.listContacts({ limit: 2, start: 0, orderBy: 'id', orderByDir: 'desc' });
    expect(page.total).toBe(2);
    expect(page.contacts.map((x) => x.id)).toEqual([2, 1]);
    expect(upstream.requests.at(-1)!.url).toContain('orderByDir=desc');

    c = replaying('api_contacts_list_search_empty');
    expect(await c.listContacts({ search: 'email:nobody@example.com' })).toEqual({ total: 0, contacts: [] });
    c = replaying('api_contacts_list_search_limit');
    const limited = await c.listContacts({ search: 'example.com', limit: 1 });
    expect(limited.contacts).toHaveLength(1);
    expect(limited.total).toBeGreaterThan(1);
    c = replaying('api_contacts_list_search_two_share');
    expect((await c.findContactsByEmail('dup@example.com')).length).toBe(2);
  });

  it('create (201, 200 upsert, 422 two share), edit, replace (201 new id), delete 404, get 404', async () => {
    expect((await replaying('api_contacts_new_201').createOrUpdateContact({ email: 'x@example.com' })).created).toBe(true);
    sentAsRecorded('api_contacts_new_201');
    const upsert = await replaying('api_contacts_new_existing_email').createOrUpdateContact({ email: 'alice@example.com' });
    expect(upsert.created).toBe(false);
    const shared = await failsAs('api_contacts_new_two_share_email', (c) => c.createOrUpdateContact({ email: 'dup@example.com' }), MauticValidationError);
    expect(shared.details).toEqual({ email: ['This field must be unique.'] });
    expect((await replaying('api_contacts_patch_200').editContact(1, { firstname: 'Bob' })).id).toBe(1);
    sentAsRecorded('api_contacts_patch_200');
    const taken = await failsAs('api_contacts_patch_422_duplicate_email', (c) => c.editContact(1, { email: 'x' }), MauticValidationError);
    expect([taken.status, taken.messages, taken.details]).toEqual([422, ['email: This field must be unique.'], { email: ['This field must be unique.'] }]);
    const invalid = await failsAs('api_contacts_patch_invalid_email', (c) => c.editContact(2, { email: 'not-an-email' }), MauticValidationError);
    expect(invalid.details).toEqual({ email: ['not-an-email is invalid.'] });
    await failsAs('api_contacts_patch_404', (c) => c.editContact(9999, { a: 1 }), MauticNotFoundError);
    expect((await replaying('api_contacts_put_200_existing').replaceContact(2, { email: 'a@example.com' })).created).toBe(false);
    sentAsRecorded('api_contacts_put_200_existing');
    const made = await replaying('api_contacts_put_create_unknown_id').replaceContact(999, { email: 'n@example.com' });
    expect(made.created).toBe(true);
    expect(made.contact.id).not.toBe(999);
    await failsAs('api_contacts_put_existing_duplicate_email', (c) => c.replaceContact(1, { email: 'x' }), MauticValidationError);
    await failsAs('api_contacts_delete_404', (c) => c.deleteContact(9999), MauticNotFoundError);
    sentAsRecorded('api_contacts_delete_404');
    const missing = await failsAs('api_contacts_get_404', (c) => c.getContact(9999), MauticNotFoundError);
    expect(missing.messages).toEqual(['Item was not found.']);
    const route = await failsAs('api_contacts_merge_route_absent', (c) => c.request('POST', '/api/contacts/999/merge'), MauticNotFoundError);
    expect(route.mauticVersion).toBeNull();
  });

  it('batch new and edit: one outcome per item, by index', async () => {
    const created = await replaying('api_contacts_batch_new').batchCreateContacts([{ email: 'carol@example.com' }, { email: 'alice@example.com' }, { email: 'bad-email' }]);
    sentAsRecorded('api_contacts_batch_new');
    expect(created.map((r) => [r.ok, r.status])).toEqual([[true, 201], [true, 200], [false, 400]]);
    expect(created[0]).toMatchObject({ created: true, contact: { id: 4, fields: { all: { email: 'carol@example.com' } } } });
    expect(created[2]).toEqual({ ok: false, status: 400, message: 'email: bad-email is invalid.', details: { email: ['bad-email is invalid.'] } });
    const edited = await replaying('api_contacts_batch_edit').batchEditContacts([{ id: 1, lastname: 'Batch' }, { id: 9999, lastname: 'X' }]);
    sentAsRecorded('api_contacts_batch_edit');
    expect(edited).toMatchObject([{ ok: true, status: 200, contact: { id: 1 } }, { ok: false, status: 404, message: 'Item was not found.' }]);
  });
});

describe('what identification leads to, as Mautic 5.1 answered', () => {
  it('segments, points, Do-Not-Contact, UTM, and their 404s and 400', async () => {
    for (const name of ['api_segment_add_contact_200', 'api_segment_add_contact_again_200']) {
      await replaying(name).addToSegment(1, 1);
      sentAsRecorded(name);
    }
    await replaying('api_segment_remove_contact_200').removeFromSegment(1, 1);
    sentAsRecorded('api_segment_remove_contact_200');
    await failsAs('api_segment_add_unknown_segment_404', (c) => c.addToSegment(999, 1), MauticNotFoundError);
    await failsAs('api_segment_add_unknown_contact_404', (c) => c.addToSegment(1, 9999), MauticNotFoundError);
    await replaying('api_points_plus_200').changePoints(1, 'plus', 10);
    sentAsRecorded('api_points_plus_200');
    await replaying('api_points_minus_with_names_200').changePoints(1, 'minus', 3, { eventName: 'Manual', actionName: 'API' });
    sentAsRecorded('api_points_minus_with_names_200');
    await replaying('api_points_times_200').changePoints(1, 'times', 2);
    sentAsRecorded('api_points_times_200');
    await failsAs('api_points_unknown_contact_404', (c) => c.changePoints(9999, 'plus', 1), MauticNotFoundError);
    const operator = await failsAs('api_points_bad_operator', (c) => c.request('POST', '/api/contacts/5/points/foo/2'), MauticValidationError);
    expect(operator.messages).toEqual(['Invalid operator']);
    await failsAs('api_points_non_numeric_delta', (c) => c.request('POST', '/api/contacts/5/points/plus/abc'), MauticServerError);
    await replaying('api_dnc_add_200').addDoNotContact(1, 'email', { reason: 3, comments: 'via api' });
    sentAsRecorded('api_dnc_add_200');
    expect(await replaying('api_dnc_remove_200').removeDoNotContact(1)).toEqual({ recordFound: true });
    sentAsRecorded('api_dnc_remove_200');
    await failsAs('api_dnc_unknown_contact_404', (c) => c.addDoNotContact(9999), MauticNotFoundError);
    await replaying('api_utm_add_200').addUtmTags(1, { utm_source: 'newsletter' });
    sentAsRecorded('api_utm_add_200');
    await failsAs('api_utm_add_unknown_contact_404', (c) => c.addUtmTags(9999, { utm_source: 'x' }), MauticNotFoundError);
  });

  it('devices: by contact, by id, all, by tracking id (string ids), reassigned', async () => {
    const [own] = await replaying('api_contacts_devices').listContactDevices(1);
    expect(own).toMatchObject({ id: 1, contactId: 1, device: 'desktop', deviceOsName: 'GNU/Linux', clientInfo: { name: 'Chrome', version: '120.0' } });
    sentAsRecorded('api_contacts_devices');
    const device = await replaying('api_devices_get').getDevice(1);
    expect(device).toMatchObject({ id: 1, device: 'desktop' });
    expect(device.contactId).toBeGreaterThan(0);
    const all = await replaying('api_devices_list').listDevices();
    expect(all).toMatchObject({ total: 1, devices: [{ id: 1, contactId: 1 }] });
    const stats = exchanges.get('api_stats_lead_devices_by_tracking_id')!;
    const trackingId = new URLSearchParams(stats.request.path.split('?')[1]).get('where[0][val]')!;
    const found = await replaying('api_stats_lead_devices_by_tracking_id').findDeviceByTrackingId(trackingId);
    expect(found).toMatchObject({ trackingId });
    expect(found!.id).toBeGreaterThan(0);
    await replaying('api_devices_patch_reassign_to_A').assignDevice(1, 1);
    sentAsRecorded('api_devices_patch_reassign_to_A');
  });
});

describe('failures, as Mautic 5.1 answered', () => {
  it('each auth refusal is its own class, none with a Mautic-Version', async () => {
    const cases: Array<[string, new (...a: never[]) => MauticApiError, 'basic' | 'oauth']> = [
      ['api_no_auth', MauticMissingCredentialsError, 'basic'],
      ['api_basic_wrong_password', MauticInvalidCredentialsError, 'basic'],
      ['api_basic_auth_disabled', MauticBasicAuthDisabledError, 'basic'],
      ['api_disabled_basic', MauticApiDisabledError, 'basic'],
      ['api_disabled_bearer', MauticApiDisabledError, 'basic'],
      ['api_bearer_invalid', MauticTokenInvalidError, 'basic'],
      ['api_bearer_expired', MauticTokenExpiredError, 'basic'],
      ['oauth_token_invalid_client_unknown_id', MauticInvalidClientError, 'oauth'],
      ['oauth_token_invalid_client_wrong_secret', MauticInvalidClientError, 'oauth'],
      ['oauth_token_password_grant_unauthorized_client', MauticUnauthorizedClientError, 'oauth'],
      ['oauth_token_api_disabled', MauticApiDisabledError, 'oauth'],
    ];
    for (const [name, kind, auth] of cases) {
      const error = await failsAs(name, (c) => c.getContact(1), kind, auth);
      expect(error.mauticVersion, name).toBeNull();
    }
  });

  it('429: the reset from X-RateLimit-Reset, in ms', async () => {
    const recorded = Number(exchanges.get('api_rate_limit_429')!.response.headers['X-RateLimit-Reset']);
    const limited = await failsAs('api_rate_limit_429', (c) => c.listContacts({ limit: 1 }), MauticRateLimitError);
    expect(limited.rateLimitResetAt).toBe(recorded * 1000);
    expect(limited.messages).toEqual(['You exceeded the rate limit of 3 API calls per hour.']);
  });
});
