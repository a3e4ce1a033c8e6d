/**
 * Contact fields on the stand-in over real HTTP: creating a unique identifier field and making a
 * field publicly updatable take effect at once in the REST validator and in tracking.
 */
import { describe, expect, it } from 'vitest';
import { useApiStandin } from './standin-api-helpers.js';
import { postHitJson } from './standin-helpers.js';

const notUnique = (alias: string) => ({
  code: 422,
  message: `${alias}: This field must be unique.`,
  details: { [alias]: ['This field must be unique.'] },
});

describe('stand-in contact fields', () => {
  const api = useApiStandin();
  const call = api.call;

  it('lists the core fields with Mautic ids (email is 6, unique, not publicly updatable)', async () => {
    const list = await call('GET', '/api/fields/contact');
    expect(list.status).toBe(200);
    const email = list.body.fields.find((field: { alias: string }) => field.alias === 'email');
    expect(email).toMatchObject({ id: 6, type: 'email', isUniqueIdentifier: true, isPubliclyUpdatable: false, object: 'lead' });
    expect((await call('GET', '/api/fields/contact/2')).body.field.alias).toBe('firstname');
    expect((await call('GET', '/api/fields/contact/999')).status).toBe(404);
  });

  it('finds fields by search, so a setup can look before it creates', async () => {
    expect((await call('GET', '/api/fields/contact?search=alias:visitor_ref')).body).toEqual({ total: 0, fields: [] });
    await call('POST', '/api/fields/contact/new', { label: 'Visitor ref', alias: 'visitor_ref', isUniqueIdentifier: true });
    const found = await call('GET', '/api/fields/contact?search=alias:visitor_ref');
    expect(found.body.total).toBe(1);
    expect(found.body.fields[0]).toMatchObject({ id: 44, alias: 'visitor_ref', isUniqueIdentifier: true });
    expect((await call('GET', '/api/fields/contact?search=visitor')).body.total).toBe(1);
  });

  it('POST /api/fields/contact/new creates a unique identifier the validator then enforces', async () => {
    const created = await call('POST', '/api/fields/contact/new', {
      label: 'Visitor ref',
      alias: 'visitor_ref',
      type: 'text',
      isUniqueIdentifier: true,
      isPublished: true,
      isPubliclyUpdatable: false,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toMatch(/\/api\/fields\/contact\/44$/);
    expect(created.body.field).toMatchObject({
      id: 44,
      label: 'Visitor ref',
      alias: 'visitor_ref',
      type: 'text',
      isUniqueIdentifier: true,
      isPubliclyUpdatable: false,
      isFixed: false,
      properties: {},
    });
    const first = (await call('POST', '/api/contacts/new', { email: 'a@example.com', visitor_ref: 'r-1' })).body.contact;
    const second = (await call('POST', '/api/contacts/new', { email: 'b@example.com' })).body.contact;
    const taken = await call('PATCH', `/api/contacts/${second.id}/edit`, { visitor_ref: 'r-1' });
    expect(taken.status).toBe(422);
    expect(taken.body.errors).toEqual([expect.objectContaining(notUnique('visitor_ref'))]);
    // contacts/new finds the contact by any unique identifier.
    const upsert = await call('POST', '/api/contacts/new', { visitor_ref: 'r-1', city: 'Lyon' });
    expect(upsert.status).toBe(200);
    expect(upsert.body.contact.id).toBe(first.id);
    // A second field with the same alias gets a number, as Mautic does.
    const again = await call('POST', '/api/fields/contact/new', { label: 'Visitor ref', alias: 'visitor_ref' });
    expect(again.body.field.alias).toBe('visitor_ref1');
    expect((await call('POST', '/api/fields/contact/new', { alias: 'x' })).status).toBe(400);
  });

  it('contacts/new answers 422 when two contacts already share a value of a newly unique field', async () => {
    await call('POST', '/api/contacts/new', { email: 'dup1@example.com', crm_id: 'c-7' });
    await call('POST', '/api/contacts/new', { email: 'dup2@example.com', crm_id: 'c-7' });
    await call('POST', '/api/fields/contact/new', { label: 'CRM id', alias: 'crm_id', isUniqueIdentifier: true });
    const refused = await call('POST', '/api/contacts/new', { crm_id: 'c-7', lastname: 'Shared' });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([expect.objectContaining(notUnique('crm_id'))]);
    expect(api.mautic.contacts.map((contact) => contact.fields.lastname)).toEqual([undefined, undefined]);
    // Listing still shows both.
    expect((await call('GET', '/api/contacts?search=crm_id:c-7')).body.total).toBe('2');
  });

  it('PATCH /api/fields/contact/6/edit {"isPubliclyUpdatable":true} lets tracking hits set the email', async () => {
    const before = await postHitJson(api.mautic, { page_url: 'http://site.test/a', email: 'claimed@example.com' });
    expect(api.mautic.contact(before.id ?? 0)?.fields.email).toBeUndefined();
    const patched = await call('PATCH', '/api/fields/contact/6/edit', { isPubliclyUpdatable: true });
    expect(patched.status).toBe(200);
    expect(patched.body.field).toMatchObject({ id: 6, alias: 'email', isFixed: true, isUniqueIdentifier: true, isPubliclyUpdatable: true });
    const after = await postHitJson(api.mautic, { page_url: 'http://site.test/b', email: 'claimed@example.com' });
    expect(api.mautic.contact(after.id ?? 0)?.fields.email).toBe('claimed@example.com');
    // reset() restores the options' flags.
    await api.reset();
    expect((await call('GET', '/api/fields/contact/6')).body.field.isPubliclyUpdatable).toBe(false);
  });
});
