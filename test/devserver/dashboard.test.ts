/**
 * The dev server's dashboard over real HTTP: page and assets served, live server-sent events when
 * a hit arrives, the JSON export, secrets redacted, --fail-rate / --latency, and port clashes; and
 * the devices, form posts and merges it shows, as rendered in Chromium.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { startDevServer, type DevServer, PortInUseError } from '../../src/devserver/index.js';
import type { DashboardSnapshot } from '../../src/devserver/index.js';
import { launchChromium, newWatchedContext } from '../support/chromium.js';

const running: DevServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
});

async function devServer(options: Parameters<typeof startDevServer>[0] = {}): Promise<DevServer> {
  const dev = await startDevServer({ host: '127.0.0.1', port: 0, ...options });
  running.push(dev);
  return dev;
}

async function exported(dev: DevServer): Promise<DashboardSnapshot> {
  const response = await fetch(`${dev.dashboardUrl}export.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as DashboardSnapshot;
}

function postHit(dev: DevServer, body: Record<string, string>): Promise<Response> {
  return fetch(`${dev.url}/mtc/event`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Requested-With': 'XMLHttpRequest' },
    body: new URLSearchParams(body).toString(),
  });
}

/** Reads server-sent events from the dashboard stream until `until` returns true. */
function readEvents(url: string, until: (events: { event: string; data: string }[]) => boolean, timeoutMs = 10_000) {
  return new Promise<{ events: { event: string; data: string }[]; response: IncomingMessage }>((resolve, reject) => {
    const events: { event: string; data: string }[] = [];
    const req = httpRequest(url, { headers: { Accept: 'text/event-stream' } }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event) events.push({ event, data: data ?? '' });
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ events, response });
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
    }, timeoutMs);
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

describe('dashboard pages', () => {
  test('serves the page, its script and stylesheet, and / redirects to it', async () => {
    const dev = await devServer();
    const page = await fetch(dev.dashboardUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    for (const heading of ['Contacts', 'Custom events', 'Hits', 'Identify / API calls']) expect(html).toContain(heading);
    // No remote assets: every src/href is same-origin.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const script = await fetch(`${dev.dashboardUrl}dashboard.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const source = await script.text();
    expect(() => new Function(source)).not.toThrow();
    expect(source).toContain('EventSource');
    expect((await fetch(`${dev.dashboardUrl}dashboard.css`)).headers.get('content-type')).toMatch(/^text\/css/);

    const root = await fetch(`${dev.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/_dashboard/');
  });

  test('leaves Mautic paths to the stand-in', async () => {
    const dev = await devServer();
    const ids = await fetch(`${dev.url}/mtc`);
    expect(ids.status).toBe(200);
    // The stand-in answered (Mautic's ids shape), not the dashboard.
    expect(Object.keys((await ids.json()) as object)).toEqual(expect.arrayContaining(['id', 'sid', 'device_id']));
    expect(dev.standin.requests.map((r) => r.path)).toContain('/mtc');
    const unknown = await fetch(`${dev.dashboardUrl}nope`);
    expect(unknown.status).toBe(404);
  });
});

describe('live updates and export', () => {
  test('the event stream announces a hit, and the export then holds the hit, the event and the contact', async () => {
    const dev = await devServer();
    const stream = readEvents(`${dev.dashboardUrl}events`, (events) => events.some((e) => e.event === 'change' && e.data.includes('"hit"')));
    // Wait for the stream to be open before the hit, so the change cannot be missed.
    await expect.poll(() => dev.dashboard.streamCount, { timeout: 5_000 }).toBe(1);

    const response = await postHit(dev, {
      page_title: 'Pricing & Plans',
      page_url: 'https://www.example.com/pricing?mt_category=trial&mt_action=signup&mt_label=hero&mt_value=1',
      page_referrer: 'news.example.org',
      counter: '0',
      tags: 'beta',
    });
    expect(response.status).toBe(200);
    const { events, response: sse } = await stream;
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events[0]?.event).toBe('hello');

    const snapshot = await exported(dev);
    expect(snapshot.counts).toMatchObject({ hits: 1, events: 1, contacts: 1 });
    expect(snapshot.mauticUrl).toBe(dev.url);
    const [hit] = snapshot.hits;
    expect(hit).toMatchObject({
      via: 'post',
      title: 'Pricing & Plans',
      referrer: 'news.example.org',
      url: 'https://www.example.com/pricing?mt_category=trial&mt_action=signup&mt_label=hero&mt_value=1',
    });
    expect(hit?.params).toMatchObject({ tags: 'beta', counter: '0' });
    expect(snapshot.events).toEqual([
      expect.objectContaining({ category: 'trial', action: 'signup', label: 'hero', value: '1', contactId: hit?.contactId }),
    ]);
    expect(snapshot.contacts[0]).toMatchObject({ id: hit?.contactId, tags: ['beta'] });
  });

  test('a hit that is not an event stays out of the events list', async () => {
    const dev = await devServer();
    await postHit(dev, { page_title: 'Home', page_url: 'https://www.example.com/?utm_source=x', counter: '0' });
    const snapshot = await exported(dev);
    expect(snapshot.counts).toMatchObject({ hits: 1, events: 0 });
  });

  test('API calls are listed with what was sent, and secrets never appear', async () => {
    const secret = 'very-secret-client-secret-value-123';
    const dev = await devServer({ api: { clients: [{ id: 'cli', secret }] } });
    const token = await fetch(`${dev.url}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=cli&client_secret=${secret}`,
    });
    expect(token.status).toBe(200);
    const { access_token: accessToken } = (await token.json()) as { access_token: string };
    const created = await fetch(`${dev.url}/api/contacts/new`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'jane@example.com', firstname: 'Jane' }),
    });
    expect(created.status).toBe(201);

    const raw = await (await fetch(`${dev.dashboardUrl}export.json`)).text();
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(accessToken);
    const snapshot = JSON.parse(raw) as DashboardSnapshot;
    expect(snapshot.apiCalls.map((c) => [c.method, c.path, c.status])).toEqual([
      ['POST', '/oauth/v2/token', 200],
      ['POST', '/api/contacts/new', 201],
    ]);
    expect(snapshot.apiCalls[1]?.body).toEqual({ email: 'jane@example.com', firstname: 'Jane' });
    expect(snapshot.contacts[0]).toMatchObject({ fields: { email: 'jane@example.com', firstname: 'Jane' } });
  });

  test('reset forgets everything and tells the open streams', async () => {
    const dev = await devServer();
    await postHit(dev, { page_title: 'Home', page_url: 'https://www.example.com/', counter: '0' });
    expect((await exported(dev)).counts.hits).toBe(1);
    const stream = readEvents(`${dev.dashboardUrl}events`, (events) => events.some((e) => e.data.includes('"reset"')));
    await expect.poll(() => dev.dashboard.streamCount, { timeout: 5_000 }).toBe(1);
    expect((await fetch(`${dev.dashboardUrl}reset`)).status).toBe(405);
    expect((await fetch(`${dev.dashboardUrl}reset`, { method: 'POST' })).status).toBe(204);
    await stream;
    expect((await exported(dev)).counts).toMatchObject({ hits: 0, contacts: 0 });
  });
});

describe('failure injection and ports', () => {
  test('--fail-rate 1 fails every tracking request but still serves the script and the dashboard', async () => {
    const dev = await devServer({ failRate: 1 });
    const hit = await postHit(dev, { page_title: 'Home', page_url: 'https://www.example.com/', counter: '0' });
    expect(hit.status).toBe(503);
    expect((await fetch(`${dev.url}/mtracking.gif?page_url=x`)).status).toBe(503);
    const api = await fetch(`${dev.url}/api/contacts/1`);
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ errors: [{ code: 503 }] });
    // The script is never failed: a page must still load the tracker to exercise its fallbacks.
    expect((await fetch(`${dev.url}/mtc.js`)).status).not.toBe(503);
    const snapshot = await exported(dev);
    expect(snapshot.counts).toMatchObject({ hits: 0, injectedFailures: 3 });
    expect(snapshot.injectedFailures.map((f) => f.path)).toEqual(['/mtc/event', '/mtracking.gif', '/api/contacts/1']);
  });

  test('--fail-rate picks requests at random with the given probability', async () => {
    const draws = [0.9, 0.1, 0.5, 0.29];
    const dev = await devServer({ failRate: 0.3, random: () => draws.shift() ?? 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await postHit(dev, { page_title: 'T', page_url: `https://www.example.com/${i}`, counter: '0' })).status);
    }
    expect(statuses).toEqual([200, 503, 200, 503]);
  });

  test('--latency delays responses by at least the given time', async () => {
    const dev = await devServer({ latencyMs: 300 });
    const started = performance.now();
    const response = await postHit(dev, { page_title: 'T', page_url: 'https://www.example.com/', counter: '0' });
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('a port that is taken gives a clear error', async () => {
    const first = await devServer();
    const error = await startDevServer({ host: '127.0.0.1', port: first.port }).then(
      (dev) => {
        running.push(dev);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toContain(`Port ${first.port} on 127.0.0.1 is already in use`);
    expect((error as Error).message).toContain('--port');
  });
});

/** A tracked browser, a known contact, a one-field form, and the browser posting the contact's email. */
async function formMerge(dev: DevServer): Promise<{ visitorId: number; knownId: number; formId: number }> {
  const hit = await fetch(`${dev.url}/mtc/event`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    },
    body: 'page_url=https%3A%2F%2Fwww.example.com%2F',
  });
  const visitor = (await hit.json()) as { id: number; device_id: string };
  const token = (await (
    await fetch(`${dev.url}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=cli&client_secret=sec',
    })
  ).json()) as { access_token: string };
  const api = (path: string, body: unknown) =>
    fetch(`${dev.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const known = (await (await api('/api/contacts/new', { email: 'ann@example.com' })).json()) as { contact: { id: number } };
  const form = (await (
    await api('/api/forms/new', { name: 'Login', fields: [{ label: 'Email', alias: 'email', type: 'email', mappedField: 'email' }] })
  ).json()) as { form: { id: number } };
  const posted = await fetch(`${dev.url}/form/submit?formId=${form.form.id}&ajax=1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `mautic_device_id=${visitor.device_id}` },
    body: `mauticform%5Bemail%5D=ann%40example.com&mauticform%5BformId%5D=${form.form.id}`,
  });
  expect(posted.status).toBe(200);
  return { visitorId: visitor.id, knownId: known.contact.id, formId: form.form.id };
}

describe('devices, form submissions and merges', () => {
  test('startDevServer passes formMergeSurvivor on: "found" keeps the contact the form found', async () => {
    const dev = await devServer({ api: { clients: [{ id: 'cli', secret: 'sec' }] }, formMergeSurvivor: 'found' });
    const { visitorId, knownId } = await formMerge(dev);
    expect((await exported(dev)).merges).toEqual([expect.objectContaining({ winnerId: knownId, loserId: visitorId })]);
  });

  test('the export and the page show the browser\'s device, the form post and the merge it caused', async () => {
    const dev = await devServer({ api: { clients: [{ id: 'cli', secret: 'sec' }] } });
    const { visitorId, knownId, formId } = await formMerge(dev);
    const deviceId = dev.standin.contact(visitorId)?.deviceIds[0];

    const snapshot = await exported(dev);
    expect(snapshot.counts).toMatchObject({ devices: 1, formSubmissions: 1, merges: 1 });
    expect(snapshot.devices).toEqual([
      expect.objectContaining({ id: 1, trackingId: deviceId, contactId: visitorId, client: 'Chrome 120.0', os: 'GNU/Linux x64', type: 'desktop' }),
    ]);
    expect(snapshot.formSubmissions).toEqual([
      expect.objectContaining({ formId, formName: 'login', contactId: visitorId, resolution: 'merged', results: { email: 'ann@example.com' } }),
    ]);
    expect(snapshot.merges).toEqual([expect.objectContaining({ winnerId: visitorId, loserId: knownId, via: 'form' })]);

    const html = await (await fetch(dev.dashboardUrl)).text();
    for (const heading of ['Devices', 'Form submissions', 'Merges']) expect(html).toContain(heading);

    // What a developer sees: the rendered page in Chromium lists the device, the post and the merge.
    const browser = await launchChromium();
    try {
      const { context, pageErrors } = await newWatchedContext(browser);
      const page = await context.newPage();
      await page.goto(dev.dashboardUrl);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
      const rows = async (id: string): Promise<string[]> => page.locator(`#${id} tbody tr`).allTextContents();
      for (const [key, count] of [['devices', 1], ['formSubmissions', 1], ['merges', 1]] as const) {
        expect(await page.locator(`[data-count="${key}"]`).textContent(), key).toBe(String(count));
      }
      const devices = await rows('devices');
      expect(devices).toHaveLength(1);
      for (const part of [deviceId ?? '?', `#${visitorId}`, 'Chrome 120.0', 'GNU/Linux x64', 'desktop']) expect(devices[0]).toContain(part);
      const forms = await rows('forms');
      expect(forms).toHaveLength(1);
      for (const part of [`login (#${formId})`, `#${visitorId}`, 'merged']) expect(forms[0]).toContain(part);
      const merges = await rows('merges');
      expect(merges).toHaveLength(1);
      for (const part of [`#${visitorId}`, `#${knownId}`, `form #${formId}`]) expect(merges[0]).toContain(part);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
