/**
 * Devices on the stand-in over real HTTP (docs/protocol.md §10.9, §11): the devices API,
 * reassignment (after which the browser's hits count for the new contact) and
 * `GET /api/stats/lead_devices` by tracking id.
 */
import { describe, expect, it } from 'vitest';
import { CHROME_UA, useApiStandin } from './standin-api-helpers.js';
import { postHitJson } from './standin-helpers.js';

describe('stand-in devices', () => {
  const api = useApiStandin();
  const call = api.call;

  async function browse(): Promise<{ id: number; deviceId: string }> {
    const hit = await postHitJson(api.mautic, { page_url: 'http://site.test/p', tags: 'anon-tag' }, { 'User-Agent': CHROME_UA });
    return { id: hit.id ?? 0, deviceId: hit.device_id ?? '' };
  }

  it('records a tracked browser as a device with client info from its User-Agent, without exposing the tracking id', async () => {
    const visitor = await browse();
    const list = await call('GET', '/api/devices');
    expect(list.status).toBe(200);
    expect(list.headers.get('mautic-version')).not.toBeNull();
    expect(list.body.total).toBe(1);
    const [device] = list.body.devices;
    expect(device).toMatchObject({
      id: 1,
      lead: { id: visitor.id, email: null, tags: [expect.objectContaining({ tag: 'anon-tag' })] },
      clientInfo: { type: 'browser', name: 'Chrome', short_name: 'CH', version: '120.0', engine: 'Blink', family: 'Chrome' },
      device: 'desktop',
      deviceOsName: 'GNU/Linux',
      deviceOsShortName: 'LIN',
      deviceOsPlatform: 'x64',
    });
    expect(JSON.stringify(list.body)).not.toContain(visitor.deviceId);
    expect((await call('GET', '/api/devices/1')).body.device.id).toBe(1);
    expect((await call('GET', '/api/devices/9')).status).toBe(404);

    const own = await call('GET', `/api/contacts/${visitor.id}/devices`);
    expect(own.body).toMatchObject({ total: 1, devices: [{ id: 1, lead: {}, device: 'desktop' }] });
    expect((await call('GET', '/api/contacts/99/devices')).status).toBe(404);
  });

  it('reads common browsers and systems from the User-Agent', async () => {
    const agents: [string, Record<string, unknown>][] = [
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
        { clientInfo: expect.objectContaining({ name: 'Firefox', version: '121.0', engine: 'Gecko' }), device: 'desktop', deviceOsName: 'Windows', deviceOsVersion: '10', deviceOsPlatform: 'x64' },
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
        { clientInfo: expect.objectContaining({ name: 'Safari', version: '17.2', engine: 'WebKit' }), device: 'smartphone', deviceBrand: 'Apple', deviceModel: 'iPhone', deviceOsName: 'iOS', deviceOsVersion: '17.2' },
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
        { clientInfo: expect.objectContaining({ name: 'Microsoft Edge', version: '120.0' }), device: 'desktop', deviceOsName: 'Mac', deviceOsVersion: '10.15.7' },
      ],
    ];
    for (const [userAgent] of agents) await postHitJson(api.mautic, { page_url: 'http://site.test/' }, { 'User-Agent': userAgent });
    const { body } = await call('GET', '/api/devices');
    expect(body.devices).toEqual(agents.map(([, expected]) => expect.objectContaining(expected)));
  });

  it('finds a device by tracking id through /api/stats/lead_devices (every value a string)', async () => {
    const visitor = await browse();
    await browse();
    const query = `where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=${visitor.deviceId}`;
    const stats = await call('GET', `/api/stats/lead_devices?${encodeURI(query)}`);
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe('1');
    expect(stats.body.stats).toEqual([
      {
        id: '1',
        lead_id: String(visitor.id),
        date_added: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        client_info: expect.stringMatching(/^a:7:\{s:4:"type";s:7:"browser";s:4:"name";s:6:"Chrome";/),
        device: 'desktop',
        device_os_name: 'GNU/Linux',
        device_os_shortname: 'LIN',
        device_os_version: '',
        device_os_platform: 'x64',
        device_brand: '',
        device_model: '',
        tracking_id: visitor.deviceId,
      },
    ]);
    const byLead = await call('GET', `/api/stats/lead_devices?where[0][col]=lead_id&where[0][expr]=eq&where[0][val]=${visitor.id}`);
    expect(byLead.body.stats.map((row: { id: string }) => row.id)).toEqual(['1']);
    const paged = await call('GET', '/api/stats/lead_devices?start=1&limit=1');
    expect(paged.body).toMatchObject({ total: '2', stats: [{ id: '2' }] });
    const none = await call('GET', '/api/stats/lead_devices?where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=nope');
    expect(none.body).toEqual({ total: '0', stats: [] });
    expect((await call('GET', '/api/stats/lead_devices?where[0][col]=secret&where[0][expr]=eq&where[0][val]=1')).status).toBe(400);
  });

  it('PATCH /api/devices/{id}/edit {"contact":A} makes the same cookies count for A', async () => {
    const visitor = await browse();
    const known = await call('POST', '/api/contacts/new', { email: 'alice@example.com' });
    const aliceId = known.body.contact.id as number;
    const moved = await call('PATCH', '/api/devices/1/edit', { contact: aliceId });
    expect(moved.status).toBe(200);
    expect(moved.body.device.lead).toMatchObject({ id: aliceId, email: 'alice@example.com' });
    expect(api.mautic.contact(aliceId)?.deviceIds).toEqual([visitor.deviceId]);
    expect(api.mautic.contact(visitor.id)?.deviceIds).toEqual([]);

    const after = await postHitJson(
      api.mautic,
      { page_url: 'http://site.test/after-device-move' },
      { Cookie: `mautic_device_id=${visitor.deviceId}; mtc_id=${visitor.id}` },
    );
    expect(after).toMatchObject({ success: 1, id: aliceId, device_id: visitor.deviceId });
    // The anonymous contact keeps its earlier hit; nothing was merged.
    expect(api.mautic.hits.map((hit) => hit.contactId)).toEqual([visitor.id, aliceId]);
    expect(api.mautic.contact(visitor.id)).toBeDefined();
    expect((await call('PATCH', '/api/devices/1/edit', { contact: 999 })).status).toBe(404);
  });

  it('POST /api/devices/new needs a contact (400 "contact ID is mandatory") and creates a device without client info', async () => {
    const refused = await call('POST', '/api/devices/new', { device: 'desktop' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ code: 400, message: 'contact ID is mandatory', details: [] })]);
    const contact = (await call('POST', '/api/contacts/new', { email: 'a@example.com' })).body.contact;
    const created = await call('POST', '/api/devices/new', { contact: contact.id, device: 'desktop', deviceOsName: 'GNU/Linux' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toMatch(/\/api\/devices\/1$/);
    expect(created.body.device).toMatchObject({
      id: 1,
      lead: { id: contact.id },
      clientInfo: [],
      device: 'desktop',
      deviceBrand: null,
      deviceOsName: 'GNU/Linux',
    });
    expect(api.mautic.devices).toEqual([expect.objectContaining({ id: 1, contactId: contact.id, trackingId: null })]);
    expect((await call('DELETE', '/api/devices/1/delete')).status).toBe(200);
    expect(api.mautic.devices).toEqual([]);
  });
});
