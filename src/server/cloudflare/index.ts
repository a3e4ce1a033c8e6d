/**
 * `mautic-tracker/server/cloudflare`: the proxy's store (`ProxyStore`) for Cloudflare Workers.
 *
 * - Counters (rate limit), single use (identity tokens) and hit ids live in a **Durable Object**
 *   (`MauticStoreObject`, which your Worker exports and binds). Each object runs one request at a
 *   time and its storage is strongly consistent, so increment and set-if-absent are atomic across
 *   every Worker instance on the edge. Workers KV would not do for these: it is eventually
 *   consistent (a write can take up to a minute to be seen elsewhere) and has no compare-and-set,
 *   so two edges could both spend one token or both forward one hit.
 * - Cache entries (keys under `mt:cache:`, the OAuth2 token cache) may go to **KV** when you bind
 *   one: reads are fast and local, and a stale or missing read only costs one more token request.
 *
 * Keys are spread over `shards` objects (by a hash of the key), so no single object carries all
 * the traffic. Expired entries are deleted by the object's alarm. Imports nothing from Node and no
 * package: it runs in workerd as it is.
 */
import { CACHE_KEY_PREFIX, type ProxyStore } from '../core/store.js';

/** The part of a Durable Object namespace binding the store uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** The part of a KV namespace binding the store uses. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

export interface CloudflareStoreOptions {
  /** The Durable Object namespace bound to `MauticStoreObject` (e.g. `env.MT_STORE`). */
  objects: DurableObjectNamespaceLike;
  /** A KV namespace for cache entries (e.g. `env.MT_CACHE`). Absent: they go to the Durable Object too. */
  cache?: KVNamespaceLike;
  /** How many objects the keys are spread over. Default 16; changing it forgets the current state. */
  shards?: number;
}

type Op = 'increment' | 'setIfAbsent' | 'get' | 'set';
interface Command {
  op: Op;
  key: string;
  value?: string;
  ttlMs?: number;
}

const OBJECT_URL = 'https://mautic-tracker-store/';
const MAX_KEY = 1024;
const MAX_VALUE = 64 * 1024;
const MAX_TTL_MS = 31 * 86_400_000;
/** KV's shortest expiry. */
const KV_MIN_TTL_S = 60;

/**
 * @example
 * // worker.js
 * import { createMauticProxy } from 'mautic-tracker/server';
 * import { createCloudflareStore, MauticStoreObject } from 'mautic-tracker/server/cloudflare';
 * export { MauticStoreObject };
 * let proxy;
 * export default {
 *   fetch(request, env) {
 *     proxy ??= createMauticProxy({ ..., store: createCloudflareStore({ objects: env.MT_STORE, cache: env.MT_CACHE }) });
 *     return proxy.handle(request, { clientIp: request.headers.get('CF-Connecting-IP') ?? '' });
 *   },
 * };
 */
export function createCloudflareStore(options: CloudflareStoreOptions): ProxyStore {
  const { objects, cache } = options;
  if (!objects || typeof objects.idFromName !== 'function' || typeof objects.get !== 'function') {
    throw new TypeError('createCloudflareStore: objects must be the Durable Object namespace bound to MauticStoreObject');
  }
  const shards = options.shards ?? 16;
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new RangeError('createCloudflareStore: shards must be an integer between 1 and 1024');
  const ids = new Map<number, unknown>();

  async function call(command: Command): Promise<unknown> {
    const shard = fnv1a(command.key) % shards;
    let id = ids.get(shard);
    if (id === undefined) {
      id = objects.idFromName(`mautic-tracker-store-${shard}`);
      ids.set(shard, id);
    }
    // A stub per call: workerd refuses I/O through a stub made for another request.
    const stub = objects.get(id as never);
    const res = await stub.fetch(OBJECT_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(command) });
    if (!res.ok) throw new Error(`store object answered ${res.status}`);
    return ((await res.json()) as { result: unknown }).result;
  }

  const cached = (key: string): boolean => cache !== undefined && key.startsWith(CACHE_KEY_PREFIX);

  return {
    async increment(key, ttlMs) {
      const n = await call({ op: 'increment', key, ttlMs });
      if (typeof n !== 'number') throw new Error('store object: unexpected answer');
      return n;
    },
    async setIfAbsent(key, value, ttlMs) {
      return (await call({ op: 'setIfAbsent', key, value, ttlMs })) === true;
    },
    async get(key) {
      if (cached(key)) return liveValue(await cache!.get(key), Date.now());
      const value = await call({ op: 'get', key });
      return typeof value === 'string' ? value : undefined;
    },
    async set(key, value, ttlMs) {
      if (cached(key)) {
        // KV keeps entries at least 60 s: the real expiry travels in the value.
        const entry: Entry = { v: value, e: Date.now() + ttlMs };
        await cache!.put(key, JSON.stringify(entry), { expirationTtl: Math.max(KV_MIN_TTL_S, Math.ceil(ttlMs / 1000)) });
        return;
      }
      await call({ op: 'set', key, value, ttlMs });
    },
  };
}

/** A stored entry: the value and when it expires (epoch ms). */
interface Entry {
  v: string;
  e: number;
}

function liveValue(text: string | null, now: number): string | undefined {
  if (text === null) return undefined;
  try {
    const entry = JSON.parse(text) as Partial<Entry>;
    return typeof entry.v === 'string' && typeof entry.e === 'number' && entry.e > now ? entry.v : undefined;
  } catch {
    return undefined;
  }
}

/** 32-bit FNV-1a: a stable, cheap spread of keys over the objects. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The part of a Durable Object's state the object uses. */
export interface DurableObjectStateLike {
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put<T>(key: string, value: T): Promise<void>;
    delete(keys: string[]): Promise<number>;
    list<T>(options?: { start?: string; limit?: number }): Promise<Map<string, T>>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
}

/** How often an object sweeps its expired entries while it holds any. */
const SWEEP_EVERY_MS = 15 * 60_000;
const SWEEP_BATCH = 1000;

/**
 * The Durable Object behind `createCloudflareStore`. Export it from your Worker and bind it
 * (`[[durable_objects.bindings]] name = "MT_STORE", class_name = "MauticStoreObject"`, plus a
 * migration with `new_classes = ["MauticStoreObject"]`). It answers only the store's own calls.
 *
 * Atomicity: an object handles its requests one at a time, and while its storage is read or
 * written no other request is delivered to it (Cloudflare's input gates), so each command's
 * read-then-write is indivisible.
 */
export class MauticStoreObject {
  private readonly storage: DurableObjectStateLike['storage'];

  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405 });
    let command: Command;
    try {
      command = parseCommand(await request.text());
    } catch {
      return new Response(null, { status: 400 });
    }
    const now = Date.now();
    const stored = await this.storage.get<Entry>(command.key);
    const live = stored !== undefined && stored.e > now ? stored : undefined;
    const ttlMs = command.ttlMs ?? 1;
    let result: unknown = null;
    switch (command.op) {
      case 'increment': {
        const count = live ? Number(live.v) + 1 : 1;
        // A fixed window: the first increment sets the expiry, later ones keep it.
        await this.write(command.key, { v: String(count), e: live ? live.e : now + ttlMs });
        result = count;
        break;
      }
      case 'setIfAbsent':
        if (live) result = false;
        else {
          await this.write(command.key, { v: command.value!, e: now + ttlMs });
          result = true;
        }
        break;
      case 'get':
        result = live ? live.v : null;
        break;
      case 'set':
        await this.write(command.key, { v: command.value!, e: now + ttlMs });
        break;
    }
    return Response.json({ result });
  }

  /** Deletes expired entries, a batch at a time; comes back while any entry is left. */
  async alarm(): Promise<void> {
    const now = Date.now();
    let start: string | undefined;
    let left = false;
    for (;;) {
      const page = await this.storage.list<Entry>({ ...(start !== undefined ? { start } : {}), limit: SWEEP_BATCH });
      const expired: string[] = [];
      let last: string | undefined;
      for (const [key, entry] of page) {
        last = key;
        if (!(entry.e > now)) expired.push(key);
        else left = true;
      }
      for (let i = 0; i < expired.length; i += 128) await this.storage.delete(expired.slice(i, i + 128));
      if (page.size < SWEEP_BATCH || last === undefined) break;
      start = last + '\0';
    }
    if (left) await this.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }

  private async write(key: string, entry: Entry): Promise<void> {
    await this.storage.put(key, entry);
    if ((await this.storage.getAlarm()) === null) await this.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }
}

const OPS: ReadonlySet<string> = new Set(['increment', 'setIfAbsent', 'get', 'set']);

/** The store's command, checked: the object trusts nothing it is sent. */
function parseCommand(text: string): Command {
  const value = JSON.parse(text) as Record<string, unknown>;
  const { op, key, ttlMs } = value;
  if (typeof op !== 'string' || !OPS.has(op)) throw new Error('op');
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) throw new Error('key');
  const command: Command = { op: op as Op, key };
  if (op !== 'get') {
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) throw new Error('ttl');
    command.ttlMs = Math.min(MAX_TTL_MS, Math.max(1, Math.ceil(ttlMs)));
  }
  if (op === 'setIfAbsent' || op === 'set') {
    if (typeof value.value !== 'string' || value.value.length > MAX_VALUE) throw new Error('value');
    command.value = value.value;
  }
  return command;
}
