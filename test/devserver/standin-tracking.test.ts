/**
 * The stand-in's tracking side over real HTTP (docs/protocol.md §3–§6): hits, contacts, devices, cookies,
 * publicly updatable fields, tags, companies, UTM, IP headers, pixel, ids, script, limits.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TRACKING_PIXEL_GIF_BASE64 } from '../../src/protocol/wire.js';
import { DEFAULT_BOT_USER_AGENTS, encodeClickthrough, startStandin, type Standin } from '../../src/devserver/index.js';
import { FORM, formBody, postHit, postHitJson, setCookies } from './standin-helpers.js';

const PAGE = 'http://site.test/pricing';

/** The date PHP writes in a cookie: `Wed, 01-Dec-2027 07:56:20 GMT`. */
const PHP_DATE = '[A-Z][a-z]{2}, \\d{2}-[A-Z][a-z]{2}-\\d{4} \\d{2}:\\d{2}:\\d{2} GMT';
const BASIC = `Basic ${Buffer.from('admin:secret').toString('base64')}`;

function cookieName(line: string): string {
  return line.split('=')[0] ?? '';
}

describe('stand-in tracking with default settings', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ api: { basicUsers: [{ username: 'admin', password: 'secret' }] } });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('answers a pageview with the §4 JSON and creates an anonymous contact', async () => {
    const response = await postHit(mautic, { page_title: 'Pricing', page_url: PAGE, counter: '0' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['success', 'id', 'sid', 'device_id', 'events']);
    expect(body.success).toBe(1);
    expect(body.id).toEqual(expect.any(Number));
    expect(body.device_id).toMatch(/^[0-9a-z]{23}$/);
    expect(body.sid).toBe(body.device_id);
    expect(body.events).toEqual([]);

    const [contact] = mautic.contacts;
    expect(contact?.id).toBe(body.id);
    expect(contact?.deviceIds).toEqual([body.device_id]);
    expect(contact?.fields).toEqual({});
    const [hit] = mautic.hits;
    expect(hit).toMatchObject({
      via: 'post',
      method: 'POST',
      path: '/mtc/event',
      rawBody: 'page_title=Pricing&page_url=http%3A%2F%2Fsite.test%2Fpricing&counter=0',
      params: { page_title: 'Pricing', page_url: PAGE, counter: '0' },
      pageUrl: PAGE,
      title: 'Pricing',
      contactId: body.id,
      deviceId: body.device_id,
      outcome: 'tracked',
    });
  });

  it('sets mautic_device_id (1 year), mtc_id (session) and mautic_referer_id (30 min) for a new visitor, spelled as PHP does', async () => {
    const response = await postHit(mautic, { page_url: PAGE });
    const body = (await response.json()) as { id: number; device_id: string };
    // Mautic's order and attribute spelling (track_event_new_visitor_plain).
    const cookies = setCookies(response);
    expect(cookies).toHaveLength(3);
    expect(cookies[0]).toMatch(
      new RegExp(`^mautic_device_id=${body.device_id}; expires=${PHP_DATE}; Max-Age=31536000; path=/; secure; samesite=none$`),
    );
    expect(cookies[1]).toBe(`mtc_id=${body.id}; path=/; secure; samesite=none`);
    expect(cookies[2]).toMatch(
      new RegExp(`^mautic_referer_id=${mautic.hits[0]?.seq}; expires=${PHP_DATE}; Max-Age=1800; path=/; secure; samesite=none$`),
    );
    const expires = /expires=([^;]+)/.exec(cookies[0] ?? '')?.[1] ?? '';
    const inAYear = Date.parse(expires.replace(/-/g, ' ')) - Date.now();
    expect(inAYear).toBeGreaterThan(364 * 24 * 3600 * 1000);
    expect(inAYear).toBeLessThan(366 * 24 * 3600 * 1000);
  });

  it('gives a returning device only a new mautic_referer_id, whether it comes by cookie or by parameter', async () => {
    const first = await postHitJson(mautic, { page_url: PAGE });
    const byCookie = await postHit(mautic, { page_url: PAGE }, { Cookie: `mautic_device_id=${first.device_id}; mtc_id=${first.id}` });
    expect(((await byCookie.json()) as { id: number }).id).toBe(first.id);
    expect(setCookies(byCookie)).toEqual([
      expect.stringMatching(new RegExp(`^mautic_referer_id=${mautic.hits[1]?.seq}; expires=${PHP_DATE}; Max-Age=1800; path=/; secure; samesite=none$`)),
    ]);
    const byParam = await postHit(mautic, { page_url: PAGE, mautic_device_id: first.device_id ?? '' });
    expect(((await byParam.json()) as { id: number }).id).toBe(first.id);
    expect(setCookies(byParam).map(cookieName)).toEqual(['mautic_referer_id']);
  });

  it('answers hits with Mautic\'s caching headers and no Mautic-Version', async () => {
    const response = await postHit(mautic, { page_url: PAGE });
    expect(response.headers.get('cache-control')).toBe('max-age=0, must-revalidate, private');
    const expires = Date.parse(response.headers.get('expires') ?? '');
    expect(Math.abs(expires - Date.now())).toBeLessThan(5000);
    expect(response.headers.get('mautic-version')).toBeNull();
    const ids = await fetch(`${mautic.url}/mtc`);
    expect(ids.headers.get('cache-control')).toBe('max-age=0, must-revalidate, private');
    expect(ids.headers.get('expires')).not.toBeNull();
    expect(ids.headers.get('mautic-version')).toBeNull();
  });

  it('recognises a returning visitor by the mautic_device_id parameter', async () => {
    const first = await postHitJson(mautic, { page_url: PAGE });
    const second = await postHitJson(mautic, { page_url: PAGE, counter: '1', mautic_device_id: first.device_id ?? '' });
    expect(second.id).toBe(first.id);
    expect(second.device_id).toBe(first.device_id);
    expect(mautic.contacts).toHaveLength(1);
  });

  it('prefers its own cookie over the parameter, even when nobody has that device id', async () => {
    const known = await postHitJson(mautic, { page_url: PAGE });
    const response = await postHit(
      mautic,
      { page_url: PAGE, mautic_device_id: known.device_id ?? '' },
      { Cookie: 'mautic_device_id=doesnotexist12345678901' },
    );
    const hit = (await response.json()) as { id: number; device_id: string };
    // track_event_unknown_device_cookie: a new contact with a new device, and all three cookies.
    expect(hit.id).not.toBe(known.id);
    expect(hit.device_id).not.toBe('doesnotexist12345678901');
    expect(hit.device_id).not.toBe(known.device_id);
    expect(setCookies(response).map(cookieName)).toEqual(['mautic_device_id', 'mtc_id', 'mautic_referer_id']);
    expect(mautic.contacts).toHaveLength(2);
  });

  it('prefers a known cookie over the parameter', async () => {
    const a = await postHitJson(mautic, { page_url: PAGE });
    const b = await postHitJson(mautic, { page_url: PAGE });
    expect(b.id).not.toBe(a.id);
    const again = await postHitJson(
      mautic,
      { page_url: PAGE, mautic_device_id: b.device_id ?? '' },
      { Cookie: `mautic_device_id=${a.device_id}` },
    );
    expect(again.id).toBe(a.id);
  });

  it('gives an unknown device id a new contact and a new device id', async () => {
    const hit = await postHitJson(mautic, { page_url: PAGE, mautic_device_id: 'abcdefghijklmnopqrstuvw' });
    expect(hit.id).toBe(mautic.contacts[0]?.id);
    expect(mautic.contacts).toHaveLength(1);
    expect(hit.device_id).not.toBe('abcdefghijklmnopqrstuvw');
  });

  it('merges page_url query (keys lower-cased) under the explicit params', async () => {
    await postHitJson(mautic, {
      page_url: 'http://site.test/p?UTM_Source=news&Utm_Medium=mail&Tags=fromurl#frag',
      utm_medium: 'explicit',
    });
    const [hit] = mautic.hits;
    expect(hit?.params).toEqual({
      page_url: 'http://site.test/p?UTM_Source=news&Utm_Medium=mail&Tags=fromurl#frag',
      utm_medium: 'explicit',
    });
    expect(hit?.query).toMatchObject({ utm_source: 'news', utm_medium: 'explicit', tags: 'fromurl' });
    expect(mautic.contacts[0]?.tags).toEqual(['fromurl']);
    expect(mautic.contacts[0]?.utm[0]).toMatchObject({ utm_source: 'news', utm_medium: 'explicit', source: 'hit' });
  });

  it('ignores email and other fields that no admin marked publicly updatable (the default)', async () => {
    const a = await postHitJson(mautic, { page_url: PAGE, email: 'jane@example.com', firstname: 'Jane' });
    const b = await postHitJson(mautic, { page_url: PAGE, email: 'jane@example.com' });
    expect(b.id).not.toBe(a.id);
    expect(mautic.contacts.map((c) => c.fields)).toEqual([{}, {}]);
  });

  it('applies tags without gating: comma list, "-x" removes', async () => {
    const first = await postHitJson(mautic, { page_url: PAGE, tags: 'a,b, c' });
    await postHitJson(mautic, { page_url: PAGE, tags: '-a,d,-missing', mautic_device_id: first.device_id ?? '' });
    expect(mautic.contacts[0]?.tags).toEqual(['b', 'c', 'd']);
  });

  it('records company fields without gating; the company name becomes the contact field', async () => {
    await postHitJson(mautic, {
      page_url: PAGE,
      company: 'Acme',
      companyemail: 'info@acme.test',
      companywebsite: 'https://acme.test',
      companycity: 'Berlin',
      companycountry: 'Germany',
      companyphone: '',
    });
    const [contact] = mautic.contacts;
    expect(contact?.company).toEqual({
      company: 'Acme',
      companyemail: 'info@acme.test',
      companywebsite: 'https://acme.test',
      companycity: 'Berlin',
      companycountry: 'Germany',
    });
    expect(contact?.fields).toEqual({ company: 'Acme' });
  });

  it('records UTM tags from explicit params with the page URL and referrer', async () => {
    await postHitJson(mautic, {
      page_url: PAGE,
      page_referrer: 'news.test',
      utm_source: 'newsletter',
      utm_campaign: 'spring',
      utm_content: 'hero',
      utm_term: 'mautic',
    });
    expect(mautic.contacts[0]?.utm).toEqual([
      expect.objectContaining({
        utm_source: 'newsletter',
        utm_campaign: 'spring',
        utm_content: 'hero',
        utm_term: 'mautic',
        url: PAGE,
        referer: 'news.test',
        source: 'hit',
      }),
    ]);
    await postHitJson(mautic, { page_url: PAGE });
    expect(mautic.contacts[1]?.utm).toEqual([]);
  });

  it.each([
    [{ 'Client-IP': '203.0.113.1', 'X-Forwarded-For': '198.51.100.1' }, '203.0.113.1'],
    [{ 'X-Forwarded-For': '198.51.100.7, 10.0.0.1', 'X-Forwarded': '192.0.2.1' }, '198.51.100.7'],
    [{ 'X-Forwarded': '192.0.2.1', 'X-Cluster-Client-IP': '192.0.2.2' }, '192.0.2.1'],
    [{ 'X-Cluster-Client-IP': '192.0.2.2', 'Forwarded-For': '192.0.2.3' }, '192.0.2.2'],
    [{ 'Forwarded-For': '192.0.2.3', Forwarded: 'for=192.0.2.4' }, '192.0.2.3'],
    [{ Forwarded: 'for="[2001:db8::1]";proto=https' }, '2001:db8::1'],
    [{ 'Client-IP': 'not-an-ip', 'X-Forwarded-For': '198.51.100.9' }, '198.51.100.9'],
    [{}, '127.0.0.1'],
  ])('takes the client IP from %j as %s (no trusted-proxy check)', async (headers, expected) => {
    await postHitJson(mautic, { page_url: PAGE }, headers);
    expect(mautic.hits[0]?.ip).toBe(expected);
    expect(mautic.contacts[0]?.ipAddresses).toEqual([expected]);
  });

  it('parses only form-encoded bodies, like PHP: JSON bodies carry no parameters', async () => {
    const json = await fetch(`${mautic.url}/mtc/event`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ page_url: PAGE, tags: 'x' }),
    });
    expect(json.status).toBe(200);
    expect(mautic.hits[0]?.params).toEqual({});
    expect(mautic.contacts[0]?.tags).toEqual([]);

    const withCharset = await fetch(`${mautic.url}/mtc/event`, {
      method: 'POST',
      headers: { 'Content-Type': `${FORM};charset=UTF-8` },
      body: formBody({ page_url: PAGE, tags: 'y' }),
    });
    expect(withCharset.status).toBe(200);
    expect(mautic.hits[1]?.params).toEqual({ page_url: PAGE, tags: 'y' });
  });

  it('parses keys as PHP does: dots and spaces become underscores, later duplicates win', async () => {
    const response = await fetch(`${mautic.url}/mtc/event`, {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: 'utm.source=dotted&a+b=spaced&tags=first&tags=second&page_url=x',
    });
    expect(response.status).toBe(200);
    expect(mautic.hits[0]?.params).toEqual({ utm_source: 'dotted', a_b: 'spaced', tags: 'second', page_url: 'x' });
    expect(mautic.contacts[0]?.tags).toEqual(['second']);
  });

  it('ignores a valid clickthrough by default, like Mautic with "track by tracking URL" off', async () => {
    // track_event_ct_lead_track_by_tracking_url_off: the ct names contact 1, the hit stays the device's.
    const named = await postHitJson(mautic, { page_url: PAGE });
    const visitor = await postHitJson(mautic, { page_url: PAGE });
    const ct = Buffer.from(`a:1:{s:4:"lead";i:${named.id};}`).toString('base64');
    const response = await postHit(
      mautic,
      { page_url: `${PAGE}?ct=${encodeURIComponent(ct)}`, ct },
      { Cookie: `mautic_device_id=${visitor.device_id}` },
    );
    const hit = (await response.json()) as { id: number; device_id: string };
    expect(hit.id).toBe(visitor.id);
    expect(hit.device_id).toBe(visitor.device_id);
    expect(setCookies(response).map(cookieName)).toEqual(['mautic_referer_id']);
  });

  it('records a custom event carried in page_url (mt_category, mt_action, …)', async () => {
    await postHitJson(mautic, {
      page_url: 'http://site.test/p?mt_category=video&mt_action=play&mt_label=intro&mt_value=3',
    });
    expect(mautic.hits[0]?.event).toEqual({ category: 'video', action: 'play', label: 'intro', value: '3' });
  });

  it('answers the pixel with the exact 43-byte GIF, Mautic\'s headers, and records the same hit', async () => {
    const query = formBody({ page_url: 'http://site.test/p?utm_source=px', page_title: 'T', tags: 'pix' });
    const response = await fetch(`${mautic.url}/mtracking.gif?${query}`);
    expect(response.status).toBe(200);
    // mtracking_gif_new_visitor, header for header.
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(response.headers.get('cache-control')).toBe('max-age=0, must-revalidate, no-cache=Set-Cookie, private, proxy-revalidate');
    expect(response.headers.get('content-encoding')).toBe('none');
    expect(response.headers.get('content-length')).toBe('43');
    expect(response.headers.get('last-modified')).toBe('Wed, 11 Jan 2006 12:59:00 GMT');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(Math.abs(Date.parse(response.headers.get('expires') ?? '') - Date.now())).toBeLessThan(5000);
    expect(response.headers.get('mautic-version')).toBeNull();
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length).toBe(43);
    expect(bytes.toString('base64')).toBe(TRACKING_PIXEL_GIF_BASE64);
    expect(setCookies(response).map((line) => line.split('=')[0])).toEqual([
      'mautic_device_id',
      'mtc_id',
      'mautic_referer_id',
    ]);
    const [hit] = mautic.hits;
    expect(hit).toMatchObject({ via: 'pixel', method: 'GET', rawQuery: query, contactId: mautic.contacts[0]?.id });
    expect(hit?.query).toMatchObject({ utm_source: 'px', tags: 'pix', page_title: 'T' });
    expect(mautic.contacts[0]?.tags).toEqual(['pix']);

    // mtracking_gif_returning: the known device gets only the referer cookie.
    const deviceId = mautic.contacts[0]?.deviceIds[0] ?? '';
    const again = await fetch(`${mautic.url}/mtracking.gif?page_url=x`, { headers: { Cookie: `mautic_device_id=${deviceId}` } });
    expect(setCookies(again).map(cookieName)).toEqual(['mautic_referer_id']);
    expect(mautic.hits[1]?.contactId).toBe(mautic.contacts[0]?.id);
  });

  it('tells a visitor its ids on GET /mtc by cookie or parameter', async () => {
    const hit = await postHitJson(mautic, { page_url: PAGE });
    const byParam = await fetch(`${mautic.url}/mtc?mautic_device_id=${hit.device_id}`);
    expect(byParam.status).toBe(200);
    expect(await byParam.json()).toEqual({ id: hit.id, sid: hit.device_id, device_id: hit.device_id });
    const byCookie = await fetch(`${mautic.url}/mtc`, { headers: { Cookie: `mautic_device_id=${hit.device_id}; mtc_id=${hit.id}` } });
    expect(await byCookie.json()).toEqual({ id: hit.id, sid: hit.device_id, device_id: hit.device_id });
    // mtc_get_contact_known_cookie: no cookie at all for a known visitor.
    expect(setCookies(byParam)).toEqual([]);
    expect(setCookies(byCookie)).toEqual([]);
    expect(mautic.contacts).toHaveLength(1);
  });

  it('makes an unrecognised visitor on GET /mtc a new anonymous contact, like Mautic\'s contact tracker', async () => {
    const hit = await postHitJson(mautic, { page_url: PAGE });
    const stranger = await fetch(`${mautic.url}/mtc?mautic_device_id=unknown0device`);
    const ids = (await stranger.json()) as { id: number; sid: string; device_id: string };
    expect(ids.id).not.toBe(hit.id);
    expect(ids.device_id).toMatch(/^[0-9a-z]{23}$/);
    expect(ids.sid).toBe(ids.device_id);
    // mtc_get_contact_no_cookie: device and contact cookies, no referer (no hit).
    expect(setCookies(stranger)).toEqual([
      expect.stringMatching(new RegExp(`^mautic_device_id=${ids.device_id}; expires=${PHP_DATE}; Max-Age=31536000; path=/; secure; samesite=none$`)),
      `mtc_id=${ids.id}; path=/; secure; samesite=none`,
    ]);
    expect(mautic.contacts.map((c) => c.id)).toEqual([hit.id, ids.id]);
    // The new ids work for the next hit.
    const next = await postHitJson(mautic, { page_url: PAGE, mautic_device_id: ids.device_id });
    expect(next.id).toBe(ids.id);
    // No hit is recorded for the lookup itself.
    expect(mautic.hits).toHaveLength(2);
  });

  it('refuses a malformed ct with {"success":0}', async () => {
    const refused = await postHitJson(mautic, { page_url: `${PAGE}?ct=%%%garbage` });
    expect(refused).toEqual({ success: 0 });
    expect(mautic.contacts).toHaveLength(0);
    expect(mautic.hits[0]?.outcome).toBe('refused');
  });

  it('lets the legacy mautic_session_id cookie pair claim a contact that has no device yet', async () => {
    // track_event_legacy_session_cookie_claims_A: contact A made through the API, then a browser
    // with `mautic_session_id=x; x=<A>` is tracked as A and gets a device.
    const created = await fetch(`${mautic.url}/api/contacts/new`, {
      method: 'POST',
      headers: { Authorization: BASIC, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com' }),
    });
    const a = ((await created.json()) as { contact: { id: number } }).contact.id;
    const response = await postHit(mautic, { page_url: PAGE }, { Cookie: `mautic_session_id=legacyabc; legacyabc=${a}` });
    const hit = (await response.json()) as { id: number; device_id: string };
    expect(hit.id).toBe(a);
    expect(setCookies(response).map(cookieName)).toEqual(['mautic_device_id', 'mtc_id', 'mautic_referer_id']);
    expect(mautic.contact(a)?.deviceIds).toEqual([hit.device_id]);
    // Once A has a device, the same cookies no longer claim it.
    const later = await postHitJson(mautic, { page_url: PAGE }, { Cookie: `mautic_session_id=legacyabc; legacyabc=${a}` });
    expect(later.id).not.toBe(a);
  });

  it('answers 405 to GET /mtc/event and 404 to unknown paths', async () => {
    expect((await fetch(`${mautic.url}/mtc/event`)).status).toBe(405);
    expect((await fetch(`${mautic.url}/nope`)).status).toBe(404);
    expect(mautic.hits).toHaveLength(0);
  });
});

describe('stand-in tracking with publicly updatable fields', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ publiclyUpdatableFields: ['email', 'firstname'] });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('writes publicly updatable fields only; blanks never clear them', async () => {
    const first = await postHitJson(mautic, { page_url: PAGE, email: 'jane@example.com', firstname: 'Jane', lastname: 'Doe' });
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'jane@example.com', firstname: 'Jane' });
    await postHitJson(mautic, { page_url: PAGE, firstname: '', mautic_device_id: first.device_id ?? '' });
    expect(mautic.contacts[0]?.fields).toEqual({ email: 'jane@example.com', firstname: 'Jane' });
  });

  it('switches to the contact of a publicly updatable email with a new device and all three cookies', async () => {
    // track_event_email_publicly_updatable_switch
    const alice = await postHitJson(mautic, { page_url: PAGE, email: 'alice@example.com' });
    const visitor = await postHitJson(mautic, { page_url: PAGE });
    const response = await postHit(
      mautic,
      { page_url: PAGE, email: 'alice@example.com' },
      { Cookie: `mautic_device_id=${visitor.device_id}; mtc_id=${visitor.id}` },
    );
    const hit = (await response.json()) as { id: number; device_id: string };
    expect(hit.id).toBe(alice.id);
    expect(hit.device_id).not.toBe(visitor.device_id);
    const cookies = setCookies(response);
    expect(cookies.map(cookieName)).toEqual(['mautic_device_id', 'mtc_id', 'mautic_referer_id']);
    expect(cookies[1]).toBe(`mtc_id=${alice.id}; path=/; secure; samesite=none`);
  });

  it('identifies a new browser by a publicly updatable email (newest match), with a new device', async () => {
    const jane = await postHitJson(mautic, { page_url: PAGE, email: 'jane@example.com' });
    const other = await postHitJson(mautic, { page_url: PAGE });
    const again = await postHitJson(mautic, {
      page_url: `${PAGE}?email=JANE%40example.com`,
      mautic_device_id: other.device_id ?? '',
    });
    expect(again.id).toBe(jane.id);
    expect(again.device_id).not.toBe(jane.device_id);
    expect(again.device_id).not.toBe(other.device_id);
    // Never merges: the anonymous contact stays.
    expect(mautic.contacts.map((c) => c.id)).toEqual([jane.id, other.id]);
  });
});

describe('stand-in tracking options', () => {
  let mautic: Standin;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'standin-'));
    await writeFile(join(dir, 'mtc.js'), 'window.__standinScript = 1;');
    mautic = await startStandin({
      scriptFile: join(dir, 'mtc.js'),
      ignoredIps: ['192.0.2.99'],
      maxBodyBytes: 1024,
      trackingEvents: { focus_item: [{ id: 1, js: "https://m.test/focus/1.js?a=1&b=<x>'\"" }] },
    });
  });
  afterAll(async () => {
    await mautic.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => mautic.reset());

  it('serves the configured script at /mtc.js', async () => {
    const response = await fetch(`${mautic.url}/mtc.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('javascript');
    expect(await response.text()).toBe('window.__standinScript = 1;');
    expect(response.headers.get('mautic-version')).toBeNull();
  });

  it('answers 404 for /mtc.js when the script file is missing', async () => {
    const other = await startStandin({ scriptFile: join(dir, 'missing.js') });
    try {
      expect((await fetch(`${other.url}/mtc.js`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('returns configured campaign events, with strings escaped as Symfony does (\\u003C…)', async () => {
    const response = await postHit(mautic, { page_url: PAGE });
    const raw = await response.text();
    // PHP's json_encode also escapes '/' unless told otherwise.
    expect(raw).toContain('"js":"https:\\/\\/m.test\\/focus\\/1.js?');
    expect(raw).toContain('a=1\\u0026b=\\u003Cx\\u003E\\u0027\\u0022');
    expect((JSON.parse(raw) as { events: unknown }).events).toEqual({
      focus_item: [{ id: 1, js: "https://m.test/focus/1.js?a=1&b=<x>'\"" }],
    });
  });

  it('answers ignored IPs with id null, no cookies and no contact', async () => {
    const response = await postHit(mautic, { page_url: PAGE }, { 'X-Forwarded-For': '192.0.2.99' });
    expect(await response.json()).toEqual({ success: 1, id: null, sid: null, device_id: null, events: [] });
    expect(setCookies(response)).toEqual([]);
    const ids = await fetch(`${mautic.url}/mtc`, { headers: { 'X-Forwarded-For': '192.0.2.99' } });
    expect(await ids.json()).toEqual({ id: null, sid: null, device_id: null });
    expect(mautic.contacts).toHaveLength(0);
    expect(mautic.hits[0]).toMatchObject({ outcome: 'ignored', contactId: null, ip: '192.0.2.99' });
  });

  it('rejects a body over maxBodyBytes with 413 and records no hit', async () => {
    const response = await postHit(mautic, { page_url: PAGE, padding: 'x'.repeat(2000) });
    expect(response.status).toBe(413);
    expect(mautic.hits).toHaveLength(0);
    expect(mautic.contacts).toHaveLength(0);
    const ok = await postHit(mautic, { page_url: PAGE, padding: 'x'.repeat(500) });
    expect(ok.status).toBe(200);
  });
});

describe("stand-in tracking with Mautic's \"track by tracking URL\" on", () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ trackByTrackingUrl: true });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('follows a base64 PHP-serialized clickthrough to its contact, with a new device and all three cookies', async () => {
    // track_event_ct_lead_track_by_tracking_url_on_public_email
    const named = await postHitJson(mautic, { page_url: PAGE });
    const visitor = await postHitJson(mautic, { page_url: PAGE });
    const ct = Buffer.from(`a:2:{s:6:"source";a:2:{i:0;s:5:"email";i:1;i:3;}s:4:"lead";i:${named.id};}`).toString('base64');
    const response = await postHit(
      mautic,
      { page_url: `${PAGE}?ct=${encodeURIComponent(ct)}`, ct },
      { Cookie: `mautic_device_id=${visitor.device_id}; mtc_id=${visitor.id}` },
    );
    const hit = (await response.json()) as { id: number; device_id: string };
    expect(hit.id).toBe(named.id);
    expect(hit.device_id).not.toBe(visitor.device_id);
    expect(hit.device_id).not.toBe(named.device_id);
    expect(setCookies(response).map(cookieName)).toEqual(['mautic_device_id', 'mtc_id', 'mautic_referer_id']);
  });

  it('follows a base64 JSON clickthrough from the page URL too', async () => {
    const known = await postHitJson(mautic, { page_url: PAGE });
    const hit = await postHitJson(mautic, { page_url: `${PAGE}?ct=${encodeURIComponent(encodeClickthrough(known.id ?? 0))}` });
    expect(hit.id).toBe(known.id);
  });

  it('still refuses a malformed ct, and a ct naming nobody leaves the visitor as it is', async () => {
    expect(await postHitJson(mautic, { page_url: PAGE, ct: '%%%' })).toEqual({ success: 0 });
    const visitor = await postHitJson(mautic, { page_url: PAGE });
    const hit = await postHitJson(mautic, { page_url: PAGE, ct: encodeClickthrough(999) }, { Cookie: `mautic_device_id=${visitor.device_id}` });
    expect(hit.id).toBe(visitor.id);
  });
});

describe('stand-in bot filter', () => {
  const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
  const HEADLESS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36';
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin({ cors: ['http://localhost:8098'] });
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('does not track a bot User-Agent: id 0, no cookies, no contact, hit recorded as a bot', async () => {
    // track_event_bot_ua: no Origin, so the CORS origin is the empty string.
    const response = await postHit(mautic, { page_url: 'http://site.test/bot' }, { 'User-Agent': GOOGLEBOT });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"success":1,"id":0,"sid":null,"device_id":null,"events":[]}');
    expect(response.headers.get('access-control-allow-origin')).toBe('');
    expect(response.headers.get('cache-control')).toBe('max-age=0, must-revalidate, private');
    expect(setCookies(response)).toEqual([]);
    expect(mautic.contacts).toHaveLength(0);
    expect(mautic.hits[0]).toMatchObject({ outcome: 'bot', contactId: null, deviceId: null, userAgent: GOOGLEBOT });
  });

  it('answers curl with id 0 on /mtc/event, the GIF on the pixel and id 0 on /mtc, without CORS headers', async () => {
    const curl = { 'User-Agent': 'curl/8.5.0' };
    const event = await fetch(`${mautic.url}/mtc/event`, { method: 'POST', headers: { ...curl, 'Content-Type': FORM }, body: 'page_url=x' });
    expect(await event.json()).toEqual({ success: 1, id: 0, sid: null, device_id: null, events: [] });
    expect(event.headers.get('access-control-allow-origin')).toBeNull();
    const pixel = await fetch(`${mautic.url}/mtracking.gif?page_url=x`, { headers: curl });
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await pixel.arrayBuffer()).toString('base64')).toBe(TRACKING_PIXEL_GIF_BASE64);
    expect(setCookies(pixel)).toEqual([]);
    const ids = await fetch(`${mautic.url}/mtc`, { headers: curl });
    expect(await ids.text()).toBe('{"id":0,"sid":null,"device_id":null}');
    expect(setCookies(ids)).toEqual([]);
    expect(mautic.contacts).toHaveLength(0);
    expect(mautic.hits.map((hit) => hit.outcome)).toEqual(['bot', 'bot']);
  });

  it("matches case-sensitively: 'googlebot' and Node's own fetch and HeadlessChrome are tracked", async () => {
    for (const ua of ['mozilla/5.0 (compatible; googlebot/2.1)', HEADLESS]) {
      const hit = await postHitJson(mautic, { page_url: PAGE }, { 'User-Agent': ua });
      expect(hit.id, ua).toEqual(expect.any(Number));
      expect(hit.id, ua).toBeGreaterThan(0);
    }
    const node = await postHitJson(mautic, { page_url: PAGE }); // undici's default UA is 'node'
    expect(node.id).toBeGreaterThan(0);
    expect(mautic.hits.map((hit) => hit.outcome)).toEqual(['tracked', 'tracked', 'tracked']);
  });

  it('takes its list from botUserAgents: [] tracks curl, a custom entry stops others', async () => {
    const open = await startStandin({ botUserAgents: [] });
    const custom = await startStandin({ botUserAgents: ['MyMonitor'] });
    try {
      const curl = await postHitJson(open, { page_url: PAGE }, { 'User-Agent': 'curl/8.5.0' });
      expect(curl.id).toBeGreaterThan(0);
      const monitor = await postHitJson(custom, { page_url: PAGE }, { 'User-Agent': 'MyMonitor/1.0' });
      expect(monitor.id).toBe(0);
      const curlThere = await postHitJson(custom, { page_url: PAGE }, { 'User-Agent': 'curl/8.5.0' });
      expect(curlThere.id).toBeGreaterThan(0);
    } finally {
      await open.close();
      await custom.close();
    }
  });

  it('ships Mautic\'s list as DEFAULT_BOT_USER_AGENTS', () => {
    expect(DEFAULT_BOT_USER_AGENTS).toEqual(expect.arrayContaining(['Googlebot', 'bingbot', 'Wget', 'facebookexternalhit', 'curl', 'python-requests', 'axios', 'Go-http-client']));
    expect(DEFAULT_BOT_USER_AGENTS.some((entry) => 'node'.includes(entry) || HEADLESS.includes(entry))).toBe(false);
  });
});
