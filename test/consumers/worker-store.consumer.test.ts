/**
 * The Cloudflare store in workerd: a Worker on the packed package with
 * `createCloudflareStore({ objects: env.MT_STORE, cache: env.MT_CACHE })`, the Durable Object
 * `MauticStoreObject` and a KV namespace bound, run by `wrangler dev` in front of the stand-in.
 * An identity token is refused the second time, the identify rate limit counts, a retried hit is
 * recorded once; and all of it still holds after `wrangler dev` restarts (a new isolate with
 * empty memory, the same local Durable Object and KV storage): the state is in the store.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { mintIdentityToken } from '../../src/server/index.js';
import { createProject, waitForOutput, type ConsumerProject } from './support/project.js';
import { consumerPort } from './support/rig.js';

const tarball = inject('tarball');
const CLIENT_ID = 'worker-store-client';
const CLIENT_SECRET = 'worker-store-client-secret-0123456789';
const TOKEN_SECRET = 'worker-store-token-secret-0123456789abcdef';
const RATE_MAX = 5;
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';

const files: Record<string, string> = {
  'src/worker.js': [
    "import { createMauticProxy } from 'mautic-tracker/server';",
    "import { createCloudflareStore, MauticStoreObject } from 'mautic-tracker/server/cloudflare';",
    '',
    'export { MauticStoreObject };',
    '',
    'let proxy;',
    'let store;',
    '',
    'export default {',
    '  async fetch(request, env) {',
    '    store ??= createCloudflareStore({ objects: env.MT_STORE, cache: env.MT_CACHE });',
    '    proxy ??= createMauticProxy({',
    '      mauticUrl: env.MAUTIC_URL,',
    "      basePath: '/mt',",
    '      secret: env.MT_PROXY_SECRET,',
    "      auth: { type: 'oauth2', clientId: env.MAUTIC_CLIENT_ID, clientSecret: env.MAUTIC_CLIENT_SECRET },",
    `      identify: { tokenSecret: env.MT_TOKEN_SECRET, history: false, rateLimit: { max: ${RATE_MAX}, windowSeconds: 600 } },`,
    '      store,',
    '    });',
    '    const url = new URL(request.url);',
    "    // Test only: a cache entry through the store, and where it landed.",
    "    if (url.pathname === '/probe/cache') {",
    "      if (request.method === 'POST') await store.set('mt:cache:probe', 'cached-value', 600000);",
    "      return Response.json({ store: (await store.get('mt:cache:probe')) ?? null, kv: (await env.MT_CACHE.get('mt:cache:probe')) !== null });",
    '    }',
    "    if (!proxy.owns(url.pathname)) return new Response('Not found', { status: 404 });",
    "    return proxy.handle(request, { clientIp: request.headers.get('CF-Connecting-IP') ?? '' });",
    '  },',
    '};',
    '',
  ].join('\n'),
  'wrangler.toml': [
    'name = "mautic-tracker-store-consumer"',
    'main = "src/worker.js"',
    'compatibility_date = "2024-09-23"',
    '',
    '[[durable_objects.bindings]]',
    'name = "MT_STORE"',
    'class_name = "MauticStoreObject"',
    '',
    '[[migrations]]',
    'tag = "v1"',
    'new_classes = ["MauticStoreObject"]',
    '',
    '[[kv_namespaces]]',
    'binding = "MT_CACHE"',
    'id = "mt-cache-local"',
    '',
  ].join('\n'),
};

describe('a Cloudflare Worker on the Durable Object / KV store', () => {
  let app: ConsumerProject;
  let mautic: Standin;
  let persist: string;
  let dev: ChildProcess | null = null;
  let base = '';

  async function startWorker(): Promise<void> {
    const port = await consumerPort();
    dev = app.start('npx', [
      'wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist,
      '--var', `MAUTIC_URL:${mautic.url}`,
      '--var', 'MT_PROXY_SECRET:worker-store-proxy-secret-0123456789abcdef',
      '--var', `MAUTIC_CLIENT_ID:${CLIENT_ID}`,
      '--var', `MAUTIC_CLIENT_SECRET:${CLIENT_SECRET}`,
      '--var', `MT_TOKEN_SECRET:${TOKEN_SECRET}`,
    ]);
    await waitForOutput(dev, /Ready on/, 120_000);
    base = `http://127.0.0.1:${port}`;
  }

  async function stopWorker(): Promise<void> {
    const child = dev;
    dev = null;
    if (!child || child.exitCode !== null || !child.pid) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // The whole group: wrangler runs workerd as a child.
      process.kill(-child.pid!, 'SIGTERM');
    });
  }

  beforeAll(async () => {
    [app, mautic] = await Promise.all([
      // wrangler 3: the last line that runs on Node 20.
      createProject('worker-store', files, { 'mautic-tracker': `file:${tarball}` }, { wrangler: '^3.90.0' }),
      startStandin({ host: '127.0.0.1', port: 0, api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } }),
    ]);
    persist = mkdtempSync(join(tmpdir(), 'worker-store-state-'));
  });
  afterAll(async () => {
    await stopWorker();
    await Promise.all([app?.close(), mautic?.close()]);
    if (persist) rmSync(persist, { recursive: true, force: true });
  });

  const identify = async (body: unknown): Promise<{ status: number; error: unknown }> => {
    const res = await fetch(`${base}/mt/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    return { status: res.status, error: json.error };
  };
  const hit = async (id: string): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${base}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${FORM}&mt_hit_id=${id}` });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('refuses a token the second time, counts the rate limit, records a retried hit once; and still does after a restart', async () => {
    await startWorker();
    const token = await mintIdentityToken({ email: 'edge@example.com', secret: TOKEN_SECRET });

    // Single use (1 and 2 of the rate limit).
    expect(await identify({ email: 'edge@example.com', token })).toEqual({ status: 200, error: undefined });
    expect(mautic.contacts.some((c) => c.fields.email === 'edge@example.com')).toBe(true);
    expect(await identify({ email: 'edge@example.com', token })).toEqual({ status: 401, error: 'token_used' });

    // Exactly once.
    const first = await hit('edgehit00000000000000001');
    const retry = await hit('edgehit00000000000000001');
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(mautic.hits).toHaveLength(1);
    expect(retry.json.id).toBe(first.json.id);
    expect(mautic.hits[0]!.rawBody).toBe(FORM);

    // Cache entries go to KV.
    expect(await (await fetch(`${base}/probe/cache`, { method: 'POST' })).json()).toEqual({ store: 'cached-value', kv: true });

    // The rate limit: 3, 4, 5 pass (malformed bodies: counted before the body is read), 6 is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await identify('{')).status);
    expect(statuses).toEqual([400, 400, 400, 429]);

    // A new workerd process: nothing in memory, the same storage.
    await stopWorker();
    await startWorker();
    expect(await identify({ email: 'edge@example.com', token })).toEqual({ status: 429, error: 'rate_limited' });
    expect((await hit('edgehit00000000000000001')).status).toBe(200);
    expect(mautic.hits).toHaveLength(1);
    expect(await (await fetch(`${base}/probe/cache`)).json()).toEqual({ store: 'cached-value', kv: true });
  });

  it('a fresh store (new local state): the replayed token is refused after a restart, by the Durable Object alone', async () => {
    await stopWorker();
    rmSync(persist, { recursive: true, force: true });
    persist = mkdtempSync(join(tmpdir(), 'worker-store-state-'));
    await startWorker();
    const token = await mintIdentityToken({ email: 'edge2@example.com', secret: TOKEN_SECRET });
    expect((await identify({ email: 'edge2@example.com', token })).status).toBe(200);
    await stopWorker();
    await startWorker();
    expect(await identify({ email: 'edge2@example.com', token })).toEqual({ status: 401, error: 'token_used' });
  });
});
