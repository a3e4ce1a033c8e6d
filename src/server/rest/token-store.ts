/**
 * Where OAuth2 tokens live between requests and restarts. Mautic rotates refresh tokens: each
 * refresh answers a new one and forgets the old, so the newest must be written somewhere that
 * outlives the process, and instances sharing one Mautic client must share it too (otherwise the
 * first refresh strands every other instance with a dead token).
 *
 * `MemoryTokenStore` (one process, lost on restart), `KeyValueTokenStore` (any `ProxyStore`:
 * Redis, Cloudflare KV…, shared between instances) and, on Node, `FileTokenStore`
 * (`mautic-tracker/server`, src/server/node/file-token-store.ts).
 */
import type { ProxyStore } from '../core/store.js';

/** What Mautic's token endpoint issued, with absolute expiry times (Unix ms). */
export interface OAuthTokens {
  accessToken: string;
  accessTokenExpiresAt: number;
  /** Absent for `client_credentials` (Mautic issues none for it). */
  refreshToken: string | null;
  /** When the refresh token dies (Mautic's default: 14 days after it was issued); null if unknown. */
  refreshTokenExpiresAt: number | null;
}

export interface TokenStore {
  /** The tokens last saved, or null when there are none (never authorised). */
  load(): Promise<OAuthTokens | null>;
  /** Replaces the stored tokens. */
  save(tokens: OAuthTokens): Promise<void>;
  /**
   * Optional, for stores shared between processes: resolves true when this caller may refresh
   * now, false when another holds the lock (then it waits for the other's tokens). The lock
   * expires by itself after `ttlMs`, so a crashed holder cannot block refreshes for long.
   */
  lock?(ttlMs: number): Promise<boolean>;
  unlock?(): Promise<void>;
}

const TOKEN_TEXT = /^[\x21-\x7e]{1,2048}$/;

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads tokens from their JSON form; null when the text is not a well-formed token record. */
export function parseTokens(text: string | undefined | null): OAuthTokens | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.accessToken !== 'string' || !TOKEN_TEXT.test(v.accessToken) || !isTime(v.accessTokenExpiresAt)) return null;
  const refreshToken = typeof v.refreshToken === 'string' && TOKEN_TEXT.test(v.refreshToken) ? v.refreshToken : null;
  return {
    accessToken: v.accessToken,
    accessTokenExpiresAt: v.accessTokenExpiresAt,
    refreshToken,
    refreshTokenExpiresAt: refreshToken && isTime(v.refreshTokenExpiresAt) ? v.refreshTokenExpiresAt : null,
  };
}

export function serializeTokens(tokens: OAuthTokens): string {
  return JSON.stringify({
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    refreshToken: tokens.refreshToken,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
  });
}

/** One process's memory: the default for `client_credentials`, which can always fetch anew. */
export class MemoryTokenStore implements TokenStore {
  private tokens: OAuthTokens | null;

  constructor(initial: OAuthTokens | null = null) {
    this.tokens = initial;
  }

  async load(): Promise<OAuthTokens | null> {
    return this.tokens;
  }

  async save(tokens: OAuthTokens): Promise<void> {
    this.tokens = { ...tokens };
  }
}

export interface KeyValueTokenStoreOptions {
  /** Key of the token record. Default `mt:tok:oauth2`; use one per Mautic API client. */
  key?: string;
  /** Kept at least this long when the tokens carry no refresh expiry. Default 14 days (Mautic's refresh lifetime). */
  minTtlMs?: number;
  now?: () => number;
}

/**
 * Tokens in a `ProxyStore` (the proxy's shared store), so every instance reads the same rotating
 * refresh token, and the store's `setIfAbsent` is the lock that lets one of them refresh at a time.
 *
 * @example new KeyValueTokenStore(redisStore, { key: 'mt:tok:oauth2:site-a' })
 */
export class KeyValueTokenStore implements TokenStore {
  private readonly key: string;
  private readonly lockKey: string;
  private readonly minTtlMs: number;
  private readonly now: () => number;
  private readonly holder = Math.random().toString(36).slice(2);

  constructor(
    private readonly store: ProxyStore,
    options: KeyValueTokenStoreOptions = {},
  ) {
    this.key = options.key ?? 'mt:tok:oauth2';
    this.lockKey = `${this.key}:lock`;
    this.minTtlMs = options.minTtlMs ?? 14 * 86_400_000;
    this.now = options.now ?? Date.now;
  }

  async load(): Promise<OAuthTokens | null> {
    return parseTokens(await this.store.get(this.key));
  }

  async save(tokens: OAuthTokens): Promise<void> {
    const until = Math.max(tokens.refreshTokenExpiresAt ?? 0, tokens.accessTokenExpiresAt);
    await this.store.set(this.key, serializeTokens(tokens), Math.max(this.minTtlMs, until - this.now()));
  }

  lock(ttlMs: number): Promise<boolean> {
    return this.store.setIfAbsent(this.lockKey, this.holder, ttlMs);
  }

  async unlock(): Promise<void> {
    // The contract has no delete: an entry that expires at once frees the lock.
    if ((await this.store.get(this.lockKey)) === this.holder) await this.store.set(this.lockKey, '', 1);
  }
}
