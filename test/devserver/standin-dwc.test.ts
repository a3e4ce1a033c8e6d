/**
 * Dynamic web content over real HTTP (docs/protocol.md §8; dwc_* and api_dynamiccontents_new exchanges):
 * items created through the REST API or preloaded, matched against the tracked contact.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { postHitJson } from './standin-helpers.js';

const SITE = 'http://localhost:8098';
const BASIC = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
const KNOWN_ONLY = [{ glue: 'and', field: 'email', object: 'lead', type: 'email', filter: null, display: null, operator: '!empty' }];

function dwc(mautic: Standin, slot: string, cookie?: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { 'X-Requested-With': 'XMLHttpRequest', Origin: SITE };
  if (cookie) headers.Cookie = cookie;
  return fetch(`${mautic.url}/dwc/${slot}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
}

async function newItem(mautic: Standin, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${mautic.url}/api/dynamiccontents/new`, {
    method: 'POST',
    headers: { Authorization: BASIC, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('stand-in /dwc/{slot} with items made through the REST API', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({
      cors: [SITE],
      publiclyUpdatableFields: ['email', 'firstname'],
      api: { basicUsers: [{ username: 'admin', password: 'secret' }] },
    });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('answers 204 with no body and no content type while no item matches', async () => {
    // dwc_slot_no_content_anonymous, dwc_unknown_slot
    const anonymous = await postHitJson(mautic, { page_url: 'http://site.test/' });
    for (const slot of ['slot1', 'noslot']) {
      const response = await dwc(mautic, slot, `mautic_device_id=${anonymous.device_id}`);
      expect(response.status).toBe(204);
      expect(response.headers.get('content-type')).toBeNull();
      expect(response.headers.get('cache-control')).toBe('max-age=0, must-revalidate, private');
      expect(response.headers.get('expires')).not.toBeNull();
      expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
      expect(response.headers.get('access-control-max-age')).toBe('36000');
      expect(await response.text()).toBe('');
    }
  });

  it('creates an item like Mautic (201, relative Location, its JSON shape, tags stripped) and serves it to known contacts', async () => {
    // api_dynamiccontents_new, then dwc_slot_with_content
    const created = await newItem(mautic, {
      name: 'Slot1 known',
      isCampaignBased: false,
      slotName: 'slot1',
      content: '<p>Hello {contactfield=firstname}</p>',
      isPublished: true,
      filters: KNOWN_ONLY,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(created.headers.get('location')).toBe('/api/dynamiccontents/1');
    expect(created.headers.get('mautic-version')).not.toBeNull();
    const { dynamicContent } = (await created.json()) as { dynamicContent: Record<string, unknown> };
    expect(Object.keys(dynamicContent)).toEqual([
      'isPublished', 'dateAdded', 'dateModified', 'createdBy', 'createdByUser', 'modifiedBy', 'modifiedByUser', 'id',
      'name', 'category', 'publishUp', 'publishDown', 'sentCount', 'variantParent', 'variantChildren', 'content',
      'utmTags', 'filters', 'isCampaignBased', 'slotName',
    ]);
    expect(dynamicContent).toMatchObject({
      id: 1,
      name: 'Slot1 known',
      content: 'Hello {contactfield=firstname}',
      filters: KNOWN_ONLY,
      isCampaignBased: false,
      slotName: 'slot1',
      sentCount: 0,
      variantChildren: [],
    });
    expect(dynamicContent.dateAdded).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);

    const kim = await postHitJson(mautic, { page_url: 'http://site.test/', email: 'kim@example.com', firstname: 'Kim' });
    const response = await dwc(mautic, 'slot1', `mautic_device_id=${kim.device_id}; mtc_id=${kim.id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mautic-version')).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.json()).toEqual({ content: 'Hello Kim', id: kim.id, sid: kim.device_id, device_id: kim.device_id });

    // The filter keeps it from a contact without an email, and the slot name must match.
    const anonymous = await postHitJson(mautic, { page_url: 'http://site.test/' });
    expect((await dwc(mautic, 'slot1', `mautic_device_id=${anonymous.device_id}`)).status).toBe(204);
    expect((await dwc(mautic, 'slot2', `mautic_device_id=${kim.device_id}`)).status).toBe(204);
    // The device parameter works when there is no cookie.
    const byParam = await fetch(`${mautic.url}/dwc/slot1?mautic_device_id=${kim.device_id}`);
    expect(((await byParam.json()) as { content: string }).content).toBe('Hello Kim');
  });

  it("is its own route class for failure injection ('dwc')", async () => {
    mautic.inject({ route: 'dwc', status: 500, times: 1 });
    expect((await dwc(mautic, 'slot1')).status).toBe(500);
    expect((await dwc(mautic, 'slot1')).status).toBe(204);
    expect(mautic.requests.map((request) => request.route)).toEqual(['dwc', 'dwc']);
  });

  it('refuses a POST with a JSON-typed 403', async () => {
    // dwc_slot_post
    const response = await dwc(mautic, 'slot1', undefined, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'page_url=x',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(mautic.hits).toHaveLength(0);
  });

  it('rejects an item without a name with 400 and a field error; needs API credentials', async () => {
    const invalid = await newItem(mautic, { slotName: 'slot1', content: 'x' });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { errors: { code: number; message: string; details: Record<string, string[]> }[] };
    expect(body.errors[0]).toMatchObject({ code: 400, message: 'name: A name is required.', details: { name: ['A name is required.'] } });
    const anonymous = await fetch(`${mautic.url}/api/dynamiccontents/new`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x', slotName: 'slot1', content: 'x' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await dwc(mautic, 'slot1')).status).toBe(204);
  });
});

describe('stand-in /dwc/{slot} with preloaded items', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({
      publiclyUpdatableFields: ['email', 'firstname', 'country'],
      dynamicContent: [
        { slotName: 'hero', content: 'Welcome back, {contactfield=firstname|friend}', filters: [{ field: 'email', operator: '!empty' }] },
        { slotName: 'hero', content: 'Hello stranger', filters: [{ field: 'email', operator: 'empty' }] },
        { slotName: 'everyone', content: '<b>For all</b> {contactfield=firstname}' },
        {
          slotName: 'country',
          content: 'DE or FR',
          filters: [
            { field: 'country', operator: '=', filter: 'germany' },
            { glue: 'or', field: 'country', operator: '=', filter: 'France' },
          ],
        },
        { slotName: 'not-de', content: 'not DE', filters: [{ field: 'country', operator: '!=', filter: 'Germany' }] },
        { slotName: 'hidden', content: 'never', isPublished: false },
        { slotName: 'odd', content: 'never', filters: [{ field: 'email', operator: 'regexp', filter: '.*' }] },
      ],
    });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  async function contentFor(slot: string, deviceId?: string | null): Promise<string | null> {
    const response = await fetch(`${mautic.url}/dwc/${slot}`, deviceId ? { headers: { Cookie: `mautic_device_id=${deviceId}` } } : {});
    if (response.status === 204) return null;
    return ((await response.json()) as { content: string }).content;
  }

  it('picks the first item whose filters match, and fills tokens with defaults', async () => {
    const jo = await postHitJson(mautic, { page_url: 'http://site.test/', email: 'jo@example.com' });
    const anonymous = await postHitJson(mautic, { page_url: 'http://site.test/' });
    expect(await contentFor('hero', jo.device_id)).toBe('Welcome back, friend');
    expect(await contentFor('hero', anonymous.device_id)).toBe('Hello stranger');
    expect(await contentFor('hidden', jo.device_id)).toBeNull();
    expect(await contentFor('odd', jo.device_id)).toBeNull();
  });

  it("matches '=' and '!=' case-insensitively, with 'or' starting a new group", async () => {
    const de = await postHitJson(mautic, { page_url: 'http://site.test/', country: 'Germany' });
    const fr = await postHitJson(mautic, { page_url: 'http://site.test/', country: 'france' });
    const italy = await postHitJson(mautic, { page_url: 'http://site.test/', country: 'Italy' });
    expect(await contentFor('country', de.device_id)).toBe('DE or FR');
    expect(await contentFor('country', fr.device_id)).toBe('DE or FR');
    expect(await contentFor('country', italy.device_id)).toBeNull();
    expect(await contentFor('not-de', de.device_id)).toBeNull();
    expect(await contentFor('not-de', italy.device_id)).toBe('not DE');
  });

  it('serves an item without filters to a visitor it does not know, with null ids and no new contact', async () => {
    const response = await fetch(`${mautic.url}/dwc/everyone`);
    expect(await response.json()).toEqual({ content: '<b>For all</b> ', id: null, sid: null, device_id: null });
    expect(mautic.contacts).toHaveLength(0);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('keeps preloaded items across reset()', async () => {
    mautic.reset();
    expect(await contentFor('everyone')).toBe('<b>For all</b> ');
  });
});

describe('stand-in dynamic content after reset()', () => {
  it('drops items made through the API but keeps preloaded ones, ids from 1 again', async () => {
    const mautic = await startStandin({
      api: { basicUsers: [{ username: 'admin', password: 'secret' }] },
      dynamicContent: [{ slotName: 'pre', content: 'preloaded' }],
    });
    try {
      const created = await newItem(mautic, { name: 'api', slotName: 'made', content: 'by api' });
      expect(created.headers.get('location')).toBe('/api/dynamiccontents/2');
      expect((await fetch(`${mautic.url}/dwc/made`)).status).toBe(200);
      mautic.reset();
      expect((await fetch(`${mautic.url}/dwc/made`)).status).toBe(204);
      expect((await fetch(`${mautic.url}/dwc/pre`)).status).toBe(200);
      const again = await newItem(mautic, { name: 'api', slotName: 'made', content: 'by api' });
      expect(again.headers.get('location')).toBe('/api/dynamiccontents/2');
    } finally {
      await mautic.close();
    }
  });
});
