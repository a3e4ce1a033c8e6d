/**
 * Case 2's history merge over real HTTP: client → proxy (Node adapter) → the stand-in, once per
 * form-merge survivor rule a Mautic version has (docs/protocol.md §12: 'tracked' 5.x–7.0, 'found' after fix
 * #16426, 'oldest' 4.x). `setupIdentify` runs against each stand-in exactly as a site owner runs
 * `npx mautic-tracker setup-identify`, including its probe; the proxy gets what it printed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import {
  createMauticProxy,
  mintIdentityToken,
  setupIdentify,
  toNodeListener,
  type IdentifyHistoryConfig,
  type MauticProxy,
  type MergeSurvivor,
} from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });
const ORIGIN = 'http://site.test';

interface Env {
  /** Merges and form posts after setup (its probe made some of its own). */
  merges(): Standin['merges'];
  submissions(): Standin['formSubmissions'];
  mautic: Standin;
  proxy: MauticProxy;
  url: string;
  history: IdentifyHistoryConfig;
  close(): Promise<void>;
}
const envs: Env[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((e) => e.close()));
});

async function start(options: { survivor: MergeSurvivor; mauticVersion?: string; timeoutMs?: number; history?: (h: IdentifyHistoryConfig) => IdentifyHistoryConfig }): Promise<Env> {
  const mautic = await startStandin({
    formMergeSurvivor: options.survivor,
    mauticVersion: options.mauticVersion ?? '5.1.0',
    api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] },
  });
  const setupProxy = createMauticProxy({ mauticUrl: mautic.url, secret: SECRET, auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
  const setup = await setupIdentify({ client: setupProxy.rest!, mauticUrl: mautic.url });
  const history = options.history ? options.history(setup.history) : setup.history;
  const proxy = createMauticProxy({
    mauticUrl: mautic.url,
    secret: SECRET,
    auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], allowedFields: ['firstname'], history },
    logger: capture.logger,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const server = await listen(toNodeListener(proxy));
  const [merged, posted] = [mautic.merges.length, mautic.formSubmissions.length];
  const env: Env = {
    mautic,
    proxy,
    url: server.url,
    history,
    merges: () => mautic.merges.slice(merged),
    submissions: () => mautic.formSubmissions.slice(posted),
    close: async () => (await server.close(), await mautic.close()),
  };
  envs.push(env);
  return env;
}

async function hit(env: Env, body: string, cookie = ''): Promise<{ id: number; deviceId: string; cookie: string }> {
  const res = await fetch(`${env.url}/mt/mtc/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Mozilla/5.0 Chrome/120.0', ...(cookie ? { cookie } : {}) },
    body,
  });
  const json = JSON.parse(await capture.record(res)) as { id: number; device_id: string };
  const binding = res.headers.getSetCookie().find((c) => c.startsWith('mt_binding='))?.split(';')[0] ?? cookie.split('; ').find((c) => c.startsWith('mt_binding=')) ?? '';
  capture.sensitive.add(binding.slice('mt_binding='.length));
  return { id: json.id, deviceId: json.device_id, cookie: `mautic_device_id=${json.device_id}; ${binding}` };
}

/** The site's login token for `email` (as the site's backend mints it, before the browser calls identify). */
async function loginToken(email: string): Promise<string> {
  const token = await mintIdentityToken({ email, secret: TOKEN_SECRET });
  capture.sensitive.add(token);
  return token;
}

async function identify(env: Env, email: string, cookie: string, token?: string): Promise<{ status: number; cookies: string[] }> {
  token ??= await loginToken(email);
  const res = await fetch(`${env.url}/mt/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, cookie, 'user-agent': 'Mozilla/5.0 Chrome/120.0' },
    body: JSON.stringify({ email, token, fields: { firstname: 'Jane' } }),
  });
  await capture.record(res);
  const cookies = res.headers.getSetCookie();
  for (const c of cookies) capture.sensitive.add(c.split(';')[0]!.split('=').slice(1).join('='));
  return { status: res.status, cookies };
}

/** Known contact A (with a Do-Not-Contact entry, a UTM row, a company), then anonymous B's pre-login visit. */
async function knownThenAnonymous(env: Env) {
  const rest = env.proxy.rest!;
  const a = (await rest.createOrUpdateContact({ email: 'jane@example.com', company: 'Acme' })).contact;
  await rest.addDoNotContact(a.id, 'email', { reason: 3, comments: 'asked' });
  await rest.addUtmTags(a.id, { utm_source: 'newsletter', utm_campaign: 'spring' });
  const b = await hit(env, 'page_title=Ad&page_url=http%3A%2F%2Fsite.test%2Flanding&utm_source=ads&utm_campaign=winter&tags=prelogin');
  await hit(env, 'page_title=Pricing&page_url=http%3A%2F%2Fsite.test%2Fpricing', b.cookie);
  return { a, b };
}

describe('setup-identify', () => {
  for (const survivor of ['tracked', 'found', 'oldest'] as const) {
    it(`measures the survivor rule '${survivor}' with throwaway contacts it deletes again`, async () => {
      const env = await start({ survivor });
      expect(env.history).toMatchObject({ field: 'mt_visitor_ref', formId: expect.any(Number), survivor, mauticVersion: '5.1.0' });
      expect(env.mautic.contacts).toEqual([]);
    });
  }

  it('is idempotent: a second run keeps the field and the form', async () => {
    const env = await start({ survivor: 'tracked' });
    const again = await setupIdentify({ client: env.proxy.rest!, mauticUrl: env.mautic.url });
    expect(again.field.created).toBe(false);
    expect(again.form.created).toBe(false);
    expect(again.history).toEqual(env.history);
  });
});

describe('case 2 with the history merge: A keeps its id and data, B\'s history ends on A', () => {
  for (const survivor of ['tracked', 'found', 'oldest'] as const) {
    it(`formMergeSurvivor '${survivor}'`, async () => {
      const env = await start({ survivor });
      const { a, b } = await knownThenAnonymous(env);
      const bHits = env.mautic.hits.filter((h) => h.contactId === b.id).length;
      expect(bHits).toBe(2);
      const from = env.mautic.apiCalls.at(-1)!.seq;

      const res = await identify(env, 'jane@example.com', b.cookie);
      expect(res.status).toBe(200);

      const calls = env.mautic.apiCalls.filter((c) => c.seq > from && c.operation !== 'token').map((c) => `${c.method} ${c.path}`);
      const device = env.mautic.devices.find((d) => d.trackingId === b.deviceId)!;
      const tail = [`GET /api/contacts/${a.id}`, `GET /api/contacts/${b.id}`];
      expect(calls).toEqual(
        survivor === 'found'
          ? // The form finds A while the device still tracks B; the merge itself moved B's device to A.
            ['GET /api/contacts', `GET /api/contacts/${b.id}`, `POST /api/contacts/${a.id}/utm/add`, `PATCH /api/contacts/${a.id}/edit`, ...tail, 'GET /api/stats/lead_devices', `PATCH /api/contacts/${a.id}/edit`]
          : ['GET /api/contacts', `GET /api/contacts/${b.id}`, 'GET /api/stats/lead_devices', `PATCH /api/devices/${device.id}/edit`, `PATCH /api/contacts/${a.id}/edit`, `POST /api/contacts/${a.id}/utm/add`, `PATCH /api/contacts/${b.id}/edit`, ...tail],
      );
      expect(env.submissions().map((f) => f.formId)).toEqual([env.history.formId]);

      // A survived under its own id, B was merged into it.
      expect(env.merges()).toEqual([expect.objectContaining({ winnerId: a.id, loserId: b.id, via: 'form' })]);
      expect(env.mautic.contact(b.id)).toBeUndefined();
      const kept = env.mautic.contact(a.id)!;
      expect(kept.fields).toMatchObject({ email: 'jane@example.com', company: 'Acme', firstname: 'Jane' });
      expect(kept.doNotContact).toEqual([expect.objectContaining({ channel: 'email', reason: 3 })]);
      expect(kept.utm.map((u) => u.utm_campaign).sort()).toEqual(['spring', 'winter']);
      expect(kept.tags).toContain('prelogin');
      // B's pre-login hits are A's now, and so is the browser's next hit (Mautic's own attribution).
      expect(env.mautic.hits.filter((h) => h.contactId === a.id)).toHaveLength(bHits);
      expect(device.contactId).toBe(a.id);
      const later = await hit(env, 'page_title=After&page_url=http%3A%2F%2Fsite.test%2Fafter', `mautic_device_id=${b.deviceId}; ${res.cookies[0]!.split(';')[0]}`);
      expect(later.id).toBe(a.id);
    });
  }

  it("'oldest' (Mautic 4): when the anonymous contact is the older one, no merge is tried; later hits still count for A", async () => {
    const env = await start({ survivor: 'oldest' });
    const b = await hit(env, 'page_title=Early&page_url=http%3A%2F%2Fsite.test%2Fearly&tags=prelogin');
    const a = (await env.proxy.rest!.createOrUpdateContact({ email: 'late@example.com' })).contact;
    expect(b.id).toBeLessThan(a.id);
    const res = await identify(env, 'late@example.com', b.cookie);
    expect(res.status).toBe(200);
    expect(env.submissions()).toEqual([]);
    expect(env.merges()).toEqual([]);
    expect(env.mautic.contact(a.id)).toBeDefined();
    expect(env.mautic.contact(b.id)).toBeDefined();
    expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
    expect(capture.lines.some((l) => l.includes('keeps the oldest contact'))).toBe(true);
  });

  it('a second browser of the same person merges too (the ref an earlier merge left on A is blanked first)', async () => {
    const env = await start({ survivor: 'tracked' });
    const { a, b } = await knownThenAnonymous(env);
    expect((await identify(env, 'jane@example.com', b.cookie)).status).toBe(200);
    const phone = await hit(env, 'page_title=Phone&page_url=http%3A%2F%2Fsite.test%2Fphone&utm_campaign=mobile');
    expect((await identify(env, 'jane@example.com', phone.cookie)).status).toBe(200);
    expect(env.merges().map((m) => [m.winnerId, m.loserId])).toEqual([[a.id, b.id], [a.id, phone.id]]);
    expect(env.mautic.contact(a.id)!.utm.map((u) => u.utm_campaign).sort()).toEqual(['mobile', 'spring', 'winter']);
  });
});

describe('the identify fields win over the merged-in anonymous contact', () => {
  for (const survivor of ['tracked', 'found'] as const) {
    it(`'${survivor}': B's own non-empty field (overwriting A's in the merge) is set back to what identify sent`, async () => {
      const env = await start({ survivor });
      const { a, b } = await knownThenAnonymous(env);
      // A already has the name identify sends; B filled in another one before logging in (a
      // newsletter form, a publicly updatable field…), so B is the more recently modified.
      await env.proxy.rest!.editContact(a.id, { firstname: 'Jane' });
      await env.proxy.rest!.editContact(b.id, { firstname: 'Anon' });
      const res = await identify(env, 'jane@example.com', b.cookie);
      expect(res.status).toBe(200);
      expect(env.merges()).toEqual([expect.objectContaining({ winnerId: a.id, loserId: b.id })]);
      expect(env.mautic.contact(a.id)!.fields).toMatchObject({ email: 'jane@example.com', company: 'Acme', firstname: 'Jane' });
    });
  }
});

describe('a failing history merge never costs the identification', () => {
  for (const survivor of ['tracked', 'found'] as const) {
    it(`'${survivor}': the form post fails (500) → still 200, the device is A's, nothing merged, A intact`, async () => {
      const env = await start({ survivor });
      const { a, b } = await knownThenAnonymous(env);
      env.mautic.inject({ route: 'form', status: 500 });
      const res = await identify(env, 'jane@example.com', b.cookie);
      env.mautic.clearInjections();
      expect(res.status).toBe(200);
      expect(env.merges()).toEqual([]);
      expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
      expect(env.mautic.contact(a.id)!.fields.email).toBe('jane@example.com');
      expect(env.mautic.contact(b.id)).toBeDefined();
      expect(res.cookies[0]).toMatch(new RegExp(`^mt_binding=v1\\.${a.id}\\.`));
    });
  }
});

describe('a history merge Mautic never answers costs neither the deadline nor the identification', () => {
  for (const survivor of ['tracked', 'found'] as const) {
    it(`'${survivor}': the form post hangs → 200 within timeoutMs, later hits count for A, A intact`, async () => {
      const env = await start({ survivor, timeoutMs: 1500 });
      const { a, b } = await knownThenAnonymous(env);
      env.mautic.inject({ route: 'form', hang: true });
      // Minted before the clock starts: the bound is on the proxy's answer, not on the site's token.
      const token = await loginToken('jane@example.com');
      const started = Date.now();
      const res = await identify(env, 'jane@example.com', b.cookie, token);
      const elapsed = Date.now() - started;
      env.mautic.clearInjections();
      expect(res.status).toBe(200);
      expect(elapsed).toBeLessThan(1500 + 400);
      expect(env.merges()).toEqual([]);
      expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
      expect(env.mautic.contact(a.id)!.fields).toMatchObject({ email: 'jane@example.com', company: 'Acme', firstname: 'Jane' });
      expect(res.cookies[0]).toMatch(new RegExp(`^mt_binding=v1\\.${a.id}\\.`));
      const later = await hit(env, 'page_title=After&page_url=http%3A%2F%2Fsite.test%2Fafter', `mautic_device_id=${b.deviceId}; ${res.cookies[0]!.split(';')[0]}`);
      expect(later.id).toBe(a.id);
    });
  }
});

describe('server-side proxy.identify with the visitor\'s request', () => {
  it("'tracked': the form post hangs → resolves within timeoutMs with the binding to A (the browser counts for A already)", async () => {
    const env = await start({ survivor: 'tracked', timeoutMs: 1500 });
    const { a, b } = await knownThenAnonymous(env);
    env.mautic.inject({ route: 'form', hang: true });
    const started = Date.now();
    const result = await env.proxy.identify({
      email: 'jane@example.com',
      request: new Request('https://site.test/account', { headers: { cookie: b.cookie, 'user-agent': 'Mozilla/5.0 Chrome/120.0' } }),
    }).catch((error: unknown) => error);
    const elapsed = Date.now() - started;
    env.mautic.clearInjections();
    expect(result).toMatchObject({ contactId: a.id, created: false });
    expect(elapsed).toBeLessThan(1500 + 400);
    const setCookie = (result as { setCookie: string }).setCookie;
    capture.sensitive.add(setCookie.split(';')[0]!.slice('mt_binding='.length));
    expect(setCookie).toMatch(new RegExp(`^mt_binding=v1\\.${a.id}\\.${b.deviceId}\\.`));
    expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
    expect(env.merges()).toEqual([]);
  });
});

describe('unsigned mode', () => {
  it('never merges (anyone may name any email there); the device still moves to A', async () => {
    const env = await start({ survivor: 'tracked' });
    const open = createMauticProxy({
      mauticUrl: env.mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { mode: 'unsigned', allowedOrigins: [ORIGIN], history: env.history },
      logger: capture.logger,
    });
    const server = await listen(toNodeListener(open));
    try {
      const { a, b } = await knownThenAnonymous(env);
      const res = await fetch(`${server.url}/mt/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, cookie: b.cookie },
        body: JSON.stringify({ email: 'jane@example.com' }),
      });
      await capture.record(res);
      expect(res.status).toBe(200);
      expect(env.submissions()).toEqual([]);
      expect(env.merges()).toEqual([]);
      expect(env.mautic.contact(b.id)).toBeDefined();
      expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
    } finally {
      await server.close();
    }
  });
});

describe('the merge can never delete A', () => {
  it('on another Mautic version than setup measured, the merge is skipped (logged) and later hits still count for A', async () => {
    const env = await start({ survivor: 'tracked', mauticVersion: '7.2.0', history: (h) => ({ ...h, mauticVersion: '5.1.0' }) });
    const { a, b } = await knownThenAnonymous(env);
    expect((await identify(env, 'jane@example.com', b.cookie)).status).toBe(200);
    expect(env.submissions()).toEqual([]);
    expect(env.merges()).toEqual([]);
    expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
    expect(capture.lines.some((l) => l.includes('not the version setup-identify measured'))).toBe(true);
  });

  it('without the Mautic version the rule was measured on, no merge is tried (logged); later hits still count for A', async () => {
    const env = await start({ survivor: 'tracked', history: ({ mauticVersion: _v, ...h }) => h });
    const { a, b } = await knownThenAnonymous(env);
    expect((await identify(env, 'jane@example.com', b.cookie)).status).toBe(200);
    expect(env.submissions()).toEqual([]);
    expect(env.merges()).toEqual([]);
    expect(env.mautic.devices.find((d) => d.trackingId === b.deviceId)!.contactId).toBe(a.id);
    expect(capture.lines.some((l) => l.includes('identify.history.mauticVersion is not set'))).toBe(true);
  });

  it('without a measured survivor rule, no merge is tried', async () => {
    const env = await start({ survivor: 'found', history: ({ survivor: _s, ...h }) => h });
    const { b } = await knownThenAnonymous(env);
    expect((await identify(env, 'jane@example.com', b.cookie)).status).toBe(200);
    expect(env.submissions()).toEqual([]);
    expect(env.merges()).toEqual([]);
  });

  it('if a merge ever does not keep A (a wrong rule in the config), it is detected, logged, and merging stops', async () => {
    // The config claims 'tracked' but this Mautic keeps the found contact: the check must catch it.
    const env = await start({ survivor: 'found', history: (h) => ({ ...h, survivor: 'tracked' }) });
    const { a, b } = await knownThenAnonymous(env);
    expect((await identify(env, 'jane@example.com', b.cookie)).status).toBe(200);
    expect(env.merges()).toEqual([expect.objectContaining({ winnerId: b.id, loserId: a.id })]);
    expect(capture.lines.some((l) => l.includes('did NOT keep the known contact'))).toBe(true);
    // No second attempt in this process.
    const other = await hit(env, 'page_title=X&page_url=http%3A%2F%2Fsite.test%2Fx');
    await env.proxy.rest!.createOrUpdateContact({ email: 'kim@example.com' });
    const before = env.submissions().length;
    expect((await identify(env, 'kim@example.com', other.cookie)).status).toBe(200);
    expect(env.submissions().length).toBe(before);
  });
});
