/**
 * The Cloudflare store's logic in Node, before the real thing (workerd, in
 * test/consumers/worker-store.consumer.test.ts): the ProxyStore contract through
 * `MauticStoreObject` behind a namespace that, like Cloudflare, hands each object one request at a
 * time; cache keys going to KV with their real expiry; the object refusing what is not a store call.
 */
import { describe, expect, it } from 'vitest';
import { createCloudflareStore, MauticStoreObject, type DurableObjectStateLike, type KVNamespaceLike } from '../../src/server/cloudflare/index.js';
import { describeStoreContract } from './support/store-contract.js';

/** Durable Object storage as the platform offers it (a sorted key space, one alarm). */
function memoryStorage(): DurableObjectStateLike['storage'] & { alarm: number | null; data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  const storage = {
    data,
    alarm: null as number | null,
    get: async <T,>(key: string) => data.get(key) as T | undefined,
    put: async <T,>(key: string, value: T) => void data.set(key, structuredClone(value)),
    delete: async (keys: string[]) => keys.filter((k) => data.delete(k)).length,
    list: async <T,>(options: { start?: string; limit?: number } = {}) => {
      const keys = [...data.keys()].sort().filter((k) => options.start === undefined || k >= options.start);
      return new Map(keys.slice(0, options.limit ?? Infinity).map((k) => [k, data.get(k) as T]));
    },
    getAlarm: async () => storage.alarm,
    setAlarm: async (at: number) => void (storage.alarm = at),
  };
  return storage;
}

/** A namespace whose objects each take one request at a time (Cloudflare's guarantee). */
function namespace() {
  const objects = new Map<string, { object: MauticStoreObject; queue: Promise<unknown>; storage: ReturnType<typeof memoryStorage> }>();
  return {
    objects,
    idFromName: (name: string) => name,
    get(id: never) {
      const name = id as unknown as string;
      let entry = objects.get(name);
      if (!entry) {
        const storage = memoryStorage();
        entry = { object: new MauticStoreObject({ storage }), queue: Promise.resolve(), storage };
        objects.set(name, entry);
      }
      const held = entry;
      return {
        fetch(input: string, init?: RequestInit): Promise<Response> {
          const run = held.queue.then(() => held.object.fetch(new Request(input, init)));
          held.queue = run.catch(() => undefined);
          return run;
        },
      };
    },
  };
}

function kv(): KVNamespaceLike & { puts: Array<{ key: string; ttl: number | undefined }> } {
  const data = new Map<string, string>();
  const puts: Array<{ key: string; ttl: number | undefined }> = [];
  return {
    puts,
    get: async (key) => data.get(key) ?? null,
    put: async (key, value, options) => {
      puts.push({ key, ttl: options?.expirationTtl });
      data.set(key, value);
    },
  };
}

describeStoreContract('cloudflare (Durable Object)', () => createCloudflareStore({ objects: namespace(), shards: 4 }));

describe('createCloudflareStore', () => {
  it('sends cache keys to KV (at least 60 s there, the real expiry kept in the value) and every other key to the objects', async () => {
    const ns = namespace();
    const cache = kv();
    const store = createCloudflareStore({ objects: ns, cache, shards: 2 });
    // 1 s: read back before it expires even on a loaded machine (150 ms was not always enough).
    await store.set('mt:cache:oauth:x', 'token-value', 1000);
    expect(cache.puts).toEqual([{ key: 'mt:cache:oauth:x', ttl: 60 }]);
    expect(await store.get('mt:cache:oauth:x')).toBe('token-value');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.get('mt:cache:oauth:x')).toBeUndefined();
    await store.set('mt:hit:abc', 'answer', 10_000);
    expect(cache.puts).toHaveLength(1);
    expect(await store.get('mt:hit:abc')).toBe('answer');
    expect(await store.setIfAbsent('mt:tok:1', '1', 10_000)).toBe(true);
    // Keys spread over the shards.
    for (let i = 0; i < 20; i++) await store.increment(`mt:rl:identify:198.51.100.${i}`, 60_000);
    expect(ns.objects.size).toBe(2);
  });

  it('the object sweeps expired entries on its alarm and refuses anything but a store call', async () => {
    const storage = memoryStorage();
    const object = new MauticStoreObject({ storage });
    const call = (body: unknown, method = 'POST') => object.fetch(new Request('https://x/', { method, ...(method === 'POST' ? { body: JSON.stringify(body) } : {}) }));
    expect((await call({ op: 'set', key: 'short', value: 'a', ttlMs: 1 })).status).toBe(200);
    expect((await call({ op: 'set', key: 'long', value: 'b', ttlMs: 60_000 })).status).toBe(200);
    expect(storage.alarm).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 5));
    storage.alarm = null;
    await object.alarm();
    expect([...storage.data.keys()]).toEqual(['long']);
    expect(storage.alarm).not.toBeNull(); // something is left: it comes back
    for (const bad of [{ op: 'delete', key: 'x' }, { op: 'get' }, { op: 'get', key: '' }, { op: 'set', key: 'k', value: 1, ttlMs: 5 }, { op: 'set', key: 'k', value: 'v' }, { op: 'increment', key: 'k'.repeat(2000), ttlMs: 5 }]) {
      expect((await call(bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await object.fetch(new Request('https://x/', { method: 'POST', body: '{' }))).status).toBe(400);
    expect((await call(null, 'GET')).status).toBe(405);
  });

  it('refuses a missing binding', () => {
    expect(() => createCloudflareStore({ objects: undefined as never })).toThrow(/Durable Object namespace/);
    expect(() => createCloudflareStore({ objects: namespace(), shards: 0 })).toThrow(/shards/);
  });
});
