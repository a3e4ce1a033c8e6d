/**
 * Forms on the stand-in over real HTTP: `POST /api/forms/new`, and the public post
 * `POST /form/submit` with Mautic 5.1's contact resolution (docs/protocol.md §10.18): merge with the tracked
 * contact surviving, switch without merge when both have emails, answers as JSON, as the messenger
 * page or as a redirect. `formMergeSurvivor` models the other Mautic versions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type StandinOptions } from '../../src/devserver/index.js';
import { apiCall, apiToken, API_CLIENT, CHROME_UA } from './standin-api-helpers.js';
import { FORM, formBody, postHitJson, setCookies } from './standin-helpers.js';
import { IDENTIFY_FORM } from '../support/identify-form.js';


interface Browser {
  contactId: number;
  deviceId: string;
  cookie: string;
}

interface PostOptions {
  cookie?: string;
  ajax?: boolean;
  messenger?: boolean;
  userAgent?: string;
}

/** The JSON a messenger page hands to `parent.postMessage`. */
function messengerJson(html: string): unknown {
  const match = /parent\.postMessage\("([^"]*)", '\*'\);/.exec(html);
  if (!match) throw new Error(`no postMessage in ${html}`);
  return JSON.parse(JSON.parse(`"${match[1]}"`) as string) as unknown;
}

function cookieValue(lines: string[], name: string): string | undefined {
  const line = lines.find((entry) => entry.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

async function setup(options: StandinOptions = {}) {
  const mautic = await startStandin({ api: { clients: [API_CLIENT] }, ...options });
  let token = '';
  const call = (method: string, path: string, body?: unknown) => apiCall(mautic, token, method, path, body);

  return {
    mautic,
    call,
    async reset(): Promise<number> {
      mautic.reset();
      token = await apiToken(mautic);
      const created = await call('POST', '/api/forms/new', IDENTIFY_FORM);
      expect(created.status).toBe(201);
      return created.body.form.id as number;
    },
    async browse(params: Record<string, string> = {}, browser?: Browser): Promise<Browser> {
      const hit = await postHitJson(
        mautic,
        { page_url: 'http://site.test/page', ...params },
        { 'User-Agent': CHROME_UA, ...(browser ? { Cookie: browser.cookie } : {}) },
      );
      const deviceId = hit.device_id ?? '';
      return { contactId: hit.id ?? 0, deviceId, cookie: `mautic_device_id=${deviceId}; mtc_id=${hit.id}` };
    },
    post(formId: number | null, fields: Record<string, string>, options: PostOptions = {}): Promise<Response> {
      const body: Record<string, string> = {};
      for (const [alias, value] of Object.entries(fields)) body[`mauticform[${alias}]`] = value;
      if (formId !== null) body['mauticform[formId]'] = String(formId);
      body['mauticform[return]'] = '';
      body['mauticform[formName]'] = 'identify';
      body['mauticform[messenger]'] = options.messenger === false ? '' : '1';
      const query = [formId !== null ? `formId=${formId}` : '', options.ajax ? 'ajax=1' : ''].filter(Boolean).join('&');
      const headers: Record<string, string> = { 'Content-Type': FORM, 'User-Agent': options.userAgent ?? CHROME_UA };
      if (options.cookie) headers.Cookie = options.cookie;
      return fetch(`${mautic.url}/form/submit${query ? `?${query}` : ''}`, { method: 'POST', headers, body: formBody(body), redirect: 'manual' });
    },
  };
}

describe('stand-in forms API', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env.mautic.close());

  it('POST /api/forms/new answers the form with mapped fields and actions (tag ids become names)', async () => {
    await env.reset();
    // Tag 'form-tag' exists once a contact has it; an action may name it by id.
    const tagged = await env.call('POST', '/api/contacts/new', { email: 't@example.com', tags: ['form-tag'] });
    const tagId = tagged.body.contact.tags[0].id as number;
    const created = await env.call('POST', '/api/forms/new', {
      ...IDENTIFY_FORM,
      actions: [{ name: 'tag it', type: 'lead.changetags', properties: { add_tags: [tagId], remove_tags: [] } }],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toMatch(/\/api\/forms\/2$/);
    expect(created.body.form).toMatchObject({
      id: 2,
      name: 'Identify',
      alias: 'identify',
      formType: 'standalone',
      postAction: 'message',
      postActionProperty: 'Thanks',
      fields: [
        { alias: 'email', type: 'email', isRequired: true, leadField: 'email', mappedObject: 'contact', mappedField: 'email' },
        { alias: 'submit', type: 'button', isRequired: false, leadField: null, mappedObject: null, mappedField: null },
      ],
      actions: [{ type: 'lead.changetags', properties: { add_tags: ['form-tag'], remove_tags: [] } }],
    });
    expect(typeof created.body.form.cachedHtml).toBe('string');
    expect((await env.call('GET', '/api/forms/2')).body.form.id).toBe(2);
    expect((await env.call('GET', '/api/forms?search=alias:identify')).body.total).toBe(2);
    expect((await env.call('GET', '/api/forms?search=alias:nothing')).body).toEqual({ total: 0, forms: [] });
    expect((await env.call('POST', '/api/forms/new', { fields: [] })).status).toBe(400);
    expect(
      (await env.call('POST', '/api/forms/new', { name: 'x', actions: [{ type: 'lead.pointschange', properties: { operator: 'pow' } }] })).status,
    ).toBe(400);
  });
});

describe('stand-in public form post', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let formId: number;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env.mautic.close());
  beforeEach(async () => {
    formId = await env.reset();
  });

  it('ajax=1 answers JSON; a browser without cookies becomes a new contact with cookies; actions apply', async () => {
    const response = await env.post(formId, { email: 'ajax@example.com' }, { ajax: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mautic-version')).toBeNull();
    expect(await response.json()).toEqual({
      success: 1,
      results: { email: 'ajax@example.com' },
      successMessage: 'Thanks',
      formName: 'identify',
    });
    const cookies = setCookies(response);
    const contactId = Number(cookieValue(cookies, 'mtc_id'));
    const deviceId = cookieValue(cookies, 'mautic_device_id');
    expect(env.mautic.contact(contactId)).toMatchObject({ fields: { email: 'ajax@example.com' }, tags: ['form-tag'], points: 5 });
    expect(env.mautic.contact(contactId)?.deviceIds).toEqual([deviceId]);
    expect(env.mautic.formSubmissions).toEqual([
      expect.objectContaining({ formId, contactId, resolution: 'created', results: { email: 'ajax@example.com' } }),
    ]);
  });

  it('messenger=1 answers the HTML page that posts the JSON (escaped as \\u00XX) to its parent', async () => {
    const response = await env.post(formId, { email: 'alice@example.com' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const html = await response.text();
    expect(html).toContain(
      'parent.postMessage("\\u007B\\u0022success\\u0022\\u003A1,\\u0022results\\u0022\\u003A\\u007B\\u0022email\\u0022\\u003A\\u0022alice\\u0040example.com\\u0022\\u007D,',
    );
    expect(messengerJson(html)).toEqual({ success: 1, results: { email: 'alice@example.com' }, successMessage: 'Thanks', formName: 'identify' });
  });

  it('without messenger it redirects to /form/message; GET is 403', async () => {
    const response = await env.post(formId, { email: 'noreturn@example.com' }, { messenger: false });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/form/message');
    expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const get = await fetch(`${env.mautic.url}/form/submit?formId=${formId}`);
    expect(get.status).toBe(403);
    expect(get.headers.get('content-type')).toBe('text/html; charset=UTF-8');
  });

  it('a missing or unknown form answers success 0 "This form is no longer available." and tracks nobody', async () => {
    for (const id of [null, 99]) {
      const response = await env.post(id, { email: 'x@example.com' });
      expect(response.status).toBe(200);
      expect(messengerJson(await response.text())).toEqual({ success: 0, errorMessage: 'This form is no longer available.' });
      expect(setCookies(response)).toEqual([]);
    }
    expect(env.mautic.contacts).toHaveLength(0);
  });

  it('a required field left empty answers validationErrors, saves nothing, but still gives the browser a contact', async () => {
    const response = await env.post(formId, { email: '' });
    expect(messengerJson(await response.text())).toEqual({
      success: 0,
      validationErrors: { email: "'Email' is required." },
      formName: 'identify',
    });
    const contactId = Number(cookieValue(setCookies(response), 'mtc_id'));
    expect(env.mautic.contact(contactId)).toMatchObject({ fields: {}, tags: [], points: 0 });
  });

  it("failure injection on route 'form' fails form posts only", async () => {
    env.mautic.inject({ route: 'form', status: 503, times: 1 });
    expect((await env.post(formId, { email: 'x@example.com' })).status).toBe(503);
    expect(env.mautic.contacts).toHaveLength(0);
    expect((await env.browse()).contactId).toBe(1);
    expect((await env.post(formId, { email: 'x@example.com' })).status).toBe(200);
  });

  it('has no bot filter: a curl User-Agent is handled like a browser', async () => {
    const response = await env.post(formId, { email: 'botsub@example.com' }, { userAgent: 'curl/8.5.0' });
    expect(messengerJson(await response.text())).toMatchObject({ success: 1 });
    expect(env.mautic.contacts.map((contact) => contact.fields.email)).toEqual(['botsub@example.com']);
  });

  it('anonymous tracked B gets a new email; no cookies change', async () => {
    const b = await env.browse();
    const response = await env.post(formId, { email: 'carol@example.com' }, { cookie: b.cookie });
    expect(setCookies(response)).toEqual([]);
    expect(env.mautic.contact(b.contactId)?.fields.email).toBe('carol@example.com');
    expect(env.mautic.contacts).toHaveLength(1);
  });

  it('a browser without cookies and an existing contact\'s email becomes that contact (new device cookie)', async () => {
    const dave = (await env.call('POST', '/api/contacts/new', { email: 'dave@example.com' })).body.contact.id as number;
    const response = await env.post(formId, { email: 'dave@example.com' });
    const cookies = setCookies(response);
    expect(Number(cookieValue(cookies, 'mtc_id'))).toBe(dave);
    expect(env.mautic.contacts.map((contact) => contact.id)).toEqual([dave]);
    expect(env.mautic.contact(dave)?.deviceIds).toEqual([cookieValue(cookies, 'mautic_device_id')]);
  });

  it('anonymous B + existing A: A is merged into B and deleted (the tracked one survives) and loses its DNC, UTM and company', async () => {
    const b = await env.browse({ utm_source: 'google', utm_campaign: 'spring', tags: 'anon-tag' });
    const alice = (
      await env.call('POST', '/api/contacts/new', { email: 'alice@example.com', firstname: 'Alice', company: 'Acme', tags: ['api-tag'] })
    ).body.contact.id as number;
    expect(env.mautic.contact(alice)?.company).toEqual({ company: 'Acme' });
    await env.call('POST', `/api/contacts/${alice}/dnc/email/add`, {});
    await env.call('POST', `/api/contacts/${alice}/utm/add`, { utm_source: 'crm' });
    // A has its own browser too.
    const aliceBrowser = await env.browse();
    await env.call('PATCH', `/api/devices/${env.mautic.devices.find((d) => d.trackingId === aliceBrowser.deviceId)?.id}/edit`, { contact: alice });
    await env.call('DELETE', `/api/contacts/${aliceBrowser.contactId}/delete`);

    const aliceDevices = env.mautic.contact(alice)?.deviceIds ?? [];
    expect(aliceDevices).toContain(aliceBrowser.deviceId);
    const response = await env.post(formId, { email: 'alice@example.com' }, { cookie: b.cookie });
    expect(messengerJson(await response.text())).toMatchObject({ success: 1 });
    expect(setCookies(response)).toEqual([]);

    expect(env.mautic.contact(alice)).toBeUndefined();
    const survivor = env.mautic.contact(b.contactId);
    expect(survivor).toMatchObject({ fields: { email: 'alice@example.com', firstname: 'Alice' }, points: 5, mergedFrom: [alice] });
    expect(survivor?.tags.sort()).toEqual(['anon-tag', 'api-tag', 'form-tag']);
    expect(survivor?.doNotContact).toEqual([]);
    // The company name is a field and merges; the company link is lost.
    expect(survivor?.fields.company).toBe('Acme');
    expect(survivor?.company).toEqual({});
    expect(survivor?.utm.map((utm) => utm.utm_source)).toEqual(['google']);
    expect(survivor?.deviceIds.sort()).toEqual([b.deviceId, ...aliceDevices].sort());
    expect(env.mautic.merges).toEqual([expect.objectContaining({ winnerId: b.contactId, loserId: alice, via: 'form', formId })]);

    // The merged-away id answers the survivor on GET and PATCH.
    const viaOld = await env.call('GET', `/api/contacts/${alice}`);
    expect(viaOld.status).toBe(200);
    expect(viaOld.body.contact.id).toBe(b.contactId);
    const patched = await env.call('PATCH', `/api/contacts/${alice}/edit`, { lastname: 'ViaOldId' });
    expect(patched.body.contact.id).toBe(b.contactId);
    expect(env.mautic.contact(b.contactId)?.fields.lastname).toBe('ViaOldId');

    // Both browsers now count for the survivor.
    expect((await env.browse({}, b)).contactId).toBe(b.contactId);
    expect((await env.browse({}, aliceBrowser)).contactId).toBe(b.contactId);
  });

  it('B with another email + A\'s email: the browser switches to A without a merge and B\'s hits move to A', async () => {
    const b = await env.browse();
    await env.call('PATCH', `/api/contacts/${b.contactId}/edit`, { email: 'p@example.com' });
    const alice = (await env.call('POST', '/api/contacts/new', { email: 'alice@example.com' })).body.contact.id as number;

    const response = await env.post(formId, { email: 'alice@example.com' }, { cookie: b.cookie });
    const cookies = setCookies(response);
    expect(Number(cookieValue(cookies, 'mtc_id'))).toBe(alice);
    const newDevice = cookieValue(cookies, 'mautic_device_id') ?? '';
    expect(newDevice).not.toBe(b.deviceId);

    expect(env.mautic.merges).toEqual([]);
    expect(env.mautic.contact(b.contactId)?.fields.email).toBe('p@example.com');
    expect(env.mautic.contact(alice)).toMatchObject({ points: 5, tags: ['form-tag'], deviceIds: [newDevice] });
    expect(env.mautic.hits.map((hit) => hit.contactId)).toEqual([alice]);
    const after = await env.browse({}, { contactId: alice, deviceId: newDevice, cookie: `mautic_device_id=${newDevice}; mtc_id=${alice}` });
    expect(after.contactId).toBe(alice);
    expect(env.mautic.formSubmissions.at(-1)).toMatchObject({ resolution: 'switched', trackedContactId: b.contactId, contactId: alice });
  });

  it('a hidden unique field set on B, with the device reassigned to A first, merges B into A (A survives)', async () => {
    await env.call('POST', '/api/fields/contact/new', { label: 'Visitor ref', alias: 'visitor_ref', type: 'text', isUniqueIdentifier: true });
    const mergeForm = await env.call('POST', '/api/forms/new', {
      name: 'mergeform',
      postActionProperty: 'ok',
      fields: [{ label: 'ref', alias: 'visitor_ref', type: 'hidden', mappedObject: 'contact', mappedField: 'visitor_ref' }],
    });
    const b = await env.browse({ tags: 'x-tag' });
    const alice = (await env.call('POST', '/api/contacts/new', { email: 'alice@example.com', company: 'Acme' })).body.contact.id as number;
    await env.call('POST', `/api/contacts/${alice}/dnc/email/add`, {});
    const stats = await env.call('GET', `/api/stats/lead_devices?where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=${b.deviceId}`);
    await env.call('PATCH', `/api/devices/${stats.body.stats[0].id}/edit`, { contact: alice });
    await env.call('PATCH', `/api/contacts/${b.contactId}/edit`, { visitor_ref: 'm-1' });

    const response = await env.post(mergeForm.body.form.id, { visitor_ref: 'm-1' }, { cookie: b.cookie, ajax: true });
    expect(await response.json()).toEqual({ success: 1, results: { visitor_ref: 'm-1' }, successMessage: 'ok', formName: 'mergeform' });
    expect(env.mautic.contact(b.contactId)).toBeUndefined();
    expect(env.mautic.contact(alice)).toMatchObject({
      fields: { email: 'alice@example.com', company: 'Acme', visitor_ref: 'm-1' },
      mergedFrom: [b.contactId],
      doNotContact: [expect.objectContaining({ channel: 'email' })],
    });
    expect(env.mautic.contact(alice)?.tags).toEqual(['x-tag']);
    expect(env.mautic.hits.every((hit) => hit.contactId === alice)).toBe(true);
  });
});

describe('stand-in form post merge survivor by Mautic version', () => {
  for (const [survivor, expected] of [
    ['found', 'A'],
    ['oldest', 'B'],
    ['tracked', 'B'],
  ] as const) {
    it(`formMergeSurvivor '${survivor}' keeps ${expected}`, async () => {
      const env = await setup({ formMergeSurvivor: survivor });
      try {
        const formId = await env.reset();
        const b = await env.browse();
        const alice = (await env.call('POST', '/api/contacts/new', { email: 'alice@example.com' })).body.contact.id as number;
        const response = await env.post(formId, { email: 'alice@example.com' }, { cookie: b.cookie });
        const winner = expected === 'A' ? alice : b.contactId;
        const loser = expected === 'A' ? b.contactId : alice;
        expect(env.mautic.contact(loser)).toBeUndefined();
        expect(env.mautic.contact(winner)?.fields.email).toBe('alice@example.com');
        // When the tracked contact is the one deleted, the browser is told its new contact id.
        const mtcId = cookieValue(setCookies(response), 'mtc_id');
        expect(mtcId).toBe(winner === b.contactId ? undefined : String(winner));
        expect((await env.browse({}, b)).contactId).toBe(winner);
      } finally {
        await env.mautic.close();
      }
    });
  }
});

describe('stand-in contact activity', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env.mautic.close());

  it('GET /api/contacts/{id}/activity lists points, UTM, page hits and form submissions, newest first, limit per type', async () => {
    const formId = await env.reset();
    const b = await env.browse({ utm_campaign: 'spring' });
    await env.browse({}, b);
    await env.post(formId, { email: 'act@example.com' }, { cookie: b.cookie });
    const answer = await env.call('GET', `/api/contacts/${b.contactId}/activity?limit=1`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mautic-version')).not.toBeNull();
    const body = answer.body;
    expect(body).toMatchObject({
      filters: { search: '', includeEvents: [], excludeEvents: [] },
      order: ['timestamp', 'DESC'],
      total: 5,
      page: 1,
      limit: 1,
      maxPages: 2,
    });
    expect(body.types['point.gained']).toBe('Point gained');
    expect(body.events.map((event: { event: string }) => event.event).sort()).toEqual(
      ['form.submitted', 'lead.utmtagsadded', 'page.hit', 'point.gained'].sort(),
    );
    const points = body.events.find((event: { event: string }) => event.event === 'point.gained');
    expect(points).toMatchObject({
      eventType: 'Point gained',
      contactId: String(b.contactId),
      details: { log: { delta: '5', actionName: 'Form', lead_id: String(b.contactId) } },
    });
    expect((await env.call('GET', '/api/contacts/999/activity')).status).toBe(404);
  });
});
