/**
 * The Redis store (`mautic-tracker/server/redis`) against a real redis-server on loopback:
 * the ProxyStore contract, an existing client with a key prefix, and a proxy on it while Redis
 * goes away (identify answers a clear 503 at once, tracking is still relayed) and comes back.
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { createMauticProxy, mintIdentityToken, toNodeListener } from '../../src/server/node/index.js';
import { createRedisStore, type RedisStore } from '../../src/server/redis/index.js';
import { installCapture } from './support/capture.js';
import { listen } from './support/fake-upstream.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';
import { describeStoreContract } from './support/store-contract.js';

const capture = installCapture({ expectLogs: true });
const ORIGIN = 'http://site.test';
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';

let redis: RedisServer;
let store: RedisStore;

beforeAll(async () => {
  redis = await startRedisServer();
  store = createRedisStore({ url: redis.url });
  await store.ready();
});
afterAll(async () => {
  await store?.close();
  await redis?.stop();
});

describeStoreContract('redis', () => store);

describe('createRedisStore', () => {
  it('uses an existing client as given, under its key prefix, and leaves it open', async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const shared = createRedisStore({ client, keyPrefix: 'site-a:' });
      expect(await shared.setIfAbsent('mt:tok:abc', '1', 5000)).toBe(true);
      expect(await client.get('site-a:mt:tok:abc')).toBe('1');
      const ttl = await client.pTTL('site-a:mt:tok:abc');
      expect(ttl).toBeGreaterThan(4000);
      expect(ttl).toBeLessThanOrEqual(5000);
      expect(await shared.increment('mt:rl:x', 60_000)).toBe(1);
      expect(await client.pTTL('site-a:mt:rl:x')).toBeGreaterThan(59_000);
      await shared.close();
      expect(await client.get('site-a:mt:rl:x')).toBe('1');
    } finally {
      await client.close();
    }
  });

  it('refuses unclear options', () => {
    expect(() => createRedisStore({} as never)).toThrow(/url or client/);
    expect(() => createRedisStore({ url: redis.url, client: { sendCommand: async () => null } })).toThrow(/url or client/);
    expect(() => createRedisStore({ url: redis.url, commandTimeoutMs: 1 })).toThrow(/commandTimeoutMs/);
  });
});

describe('a proxy on Redis while Redis goes away and comes back', () => {
  let mautic: Standin;
  let site: Awaited<ReturnType<typeof listen>>;
  let proxyStore: RedisStore;

  beforeAll(async () => {
    mautic = await startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } });
    proxyStore = createRedisStore({ url: redis.url, commandTimeoutMs: 500 });
    await proxyStore.ready();
    const proxy = createMauticProxy({
      mauticUrl: mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false },
      store: proxyStore,
      logger: capture.logger,
    });
    site = await listen(toNodeListener(proxy));
  });
  afterAll(async () => {
    await site?.close();
    await proxyStore?.close();
    await mautic?.close();
  });

  async function identify(email: string): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | null; ms: number }> {
    const token = await mintIdentityToken({ email, secret: TOKEN_SECRET });
    capture.sensitive.add(token);
    const started = Date.now();
    const res = await fetch(`${site.url}/mt/identify`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ email, token }) });
    const json = JSON.parse(await capture.record(res)) as Record<string, unknown>;
    return { status: res.status, json, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
  }

  const hit = async (id: string): Promise<number> => {
    const res = await fetch(`${site.url}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${FORM}&mt_hit_id=${id}` });
    await capture.record(res);
    return res.status;
  };

  it('identify: 200, then 503 store_unavailable within the command timeout while Redis is away (no Mautic call), then 200 again', async () => {
    expect((await identify('before@example.com')).status).toBe(200);

    await redis.stop();
    const apiCallsBefore = mautic.requests.filter((r) => r.path.startsWith('/api') || r.path.startsWith('/oauth')).length;
    const down = await identify('during@example.com');
    expect(down.status).toBe(503);
    expect(down.json.error).toBe('store_unavailable');
    expect(down.retryAfter).toBe('5');
    expect(down.ms).toBeLessThan(2000);
    expect(mautic.requests.filter((r) => r.path.startsWith('/api') || r.path.startsWith('/oauth')).length).toBe(apiCallsBefore);

    // Tracking does not depend on Redis: a hit (with its id) is still relayed and recorded.
    const hitsBefore = mautic.hits.length;
    expect(await hit('downhit0000000000000001')).toBe(200);
    expect(mautic.hits.length).toBe(hitsBefore + 1);
    expect(mautic.hits.at(-1)!.rawBody).toBe(FORM);
    expect(capture.lines.some((l) => l.includes('relayed without exactly-once'))).toBe(true);

    await redis.start();
    // The client reconnects by itself (backoff of at most 2 s).
    let back = await identify('after@example.com');
    for (let i = 0; i < 40 && back.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      back = await identify('after@example.com');
    }
    expect(back.status).toBe(200);
    // And hit ids count again: a retry is recorded once.
    const n = mautic.hits.length;
    expect(await hit('backhit0000000000000001')).toBe(200);
    expect(await hit('backhit0000000000000001')).toBe(200);
    expect(mautic.hits.length).toBe(n + 1);
  });
});
