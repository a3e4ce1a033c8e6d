/**
 * `mautic-tracker/server/redis`: the proxy's store (`ProxyStore`) on Redis, for several Node
 * instances behind a load balancer. Its own entry, so `mautic-tracker/server` never loads a Redis
 * client; it needs the optional peer dependency `@redis/client` (the official client, v5+).
 *
 * Every operation is one atomic round trip: `increment` is a Lua script (INCR, then PEXPIRE only
 * when the key has no expiry yet: a fixed window), `setIfAbsent` is `SET NX PX`, `get` is `GET`,
 * `set` is `SET PX`. Each call fails within `commandTimeoutMs` when Redis is away (the client
 * this entry makes queues nothing while disconnected, and reconnects by itself): identify then
 * answers 503 `store_unavailable`, and tracking is relayed without exactly-once.
 */
import { createClient } from '@redis/client';
import type { ProxyStore } from '../core/store.js';

/**
 * The one thing the store needs of a client you already have: node-redis's `sendCommand`
 * (`createClient()` of `redis` or `@redis/client`, v4 and later).
 */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** Connects its own client, e.g. `redis://127.0.0.1:6379` or `rediss://user:pass@host:6380/0`. */
  url?: string;
  /** Or uses yours (connected, and closed by you). Its offline queue, if any, is bounded by `commandTimeoutMs`. */
  client?: RedisCommandClient;
  /** Put before every key, to share one Redis between sites. Default: none (keys start with `mt:`). */
  keyPrefix?: string;
  /** Longest a store call may take before it fails (Redis slow or away). Default 1000 ms. */
  commandTimeoutMs?: number;
}

export interface RedisStore extends ProxyStore {
  /** Resolves once its own client is connected (at once for a client you passed). */
  ready(): Promise<void>;
  /** Closes its own client (not one you passed). */
  close(): Promise<void>;
}

/** INCR with a fixed window: the expiry is set by the increment that created the key (or if it was lost). */
const INCREMENT_SCRIPT = "local n = redis.call('INCR', KEYS[1]) if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * @example
 * import { createMauticProxy } from 'mautic-tracker/server';
 * import { createRedisStore } from 'mautic-tracker/server/redis';
 * const store = createRedisStore({ url: process.env.REDIS_URL });
 * const proxy = createMauticProxy({ ..., store });
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if ((options.url === undefined) === (options.client === undefined)) throw new TypeError('createRedisStore: pass either url or client');
  const timeoutMs = options.commandTimeoutMs ?? 1000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 10 || timeoutMs > 60_000) throw new RangeError('createRedisStore: commandTimeoutMs must be an integer between 10 and 60000');
  const prefix = options.keyPrefix ?? '';

  let client: RedisCommandClient;
  let ready: Promise<void>;
  let close: () => Promise<void>;
  if (options.client) {
    client = options.client;
    ready = Promise.resolve();
    close = async () => {};
  } else {
    const own = createClient({
      url: options.url,
      // Fail at once while disconnected rather than queue: callers have a deadline.
      disableOfflineQueue: true,
      socket: { connectTimeout: Math.max(timeoutMs, 1000), reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) },
    });
    // Connection errors are retried by the client and surface as failed calls; an 'error'
    // event without a listener would crash the process. Messages may carry the URL's password.
    own.on('error', () => {});
    ready = own.connect().then(
      () => undefined,
      () => undefined,
    );
    client = own as unknown as RedisCommandClient;
    close = async () => {
      await ready;
      if (own.isOpen) await own.close();
      else own.destroy();
    };
  }

  function send(args: string[]): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis store: no answer within commandTimeoutMs')), timeoutMs);
    });
    return Promise.race([client.sendCommand(args), deadline]).finally(() => clearTimeout(timer));
  }

  const ms = (ttlMs: number): string => String(Math.max(1, Math.ceil(ttlMs)));

  return {
    async increment(key, ttlMs) {
      const n = await send(['EVAL', INCREMENT_SCRIPT, '1', prefix + key, ms(ttlMs)]);
      if (typeof n !== 'number') throw new Error('redis store: unexpected INCR reply');
      return n;
    },
    async setIfAbsent(key, value, ttlMs) {
      return (await send(['SET', prefix + key, value, 'NX', 'PX', ms(ttlMs)])) === 'OK';
    },
    async get(key) {
      const value = await send(['GET', prefix + key]);
      return typeof value === 'string' ? value : undefined;
    },
    async set(key, value, ttlMs) {
      await send(['SET', prefix + key, value, 'PX', ms(ttlMs)]);
    },
    ready: () => ready,
    close,
  };
}
