/**
 * Identity tokens: the site's backend proves "this browser's user is jane@example.com" (the
 * Intercom identity-verification pattern). A token is `v2.<expiresAtSeconds>.<nonce>.<base64url
 * HMAC>` over the normalized email, the expiry and a random nonce, so it cannot be used for
 * another email or after it expires, and two tokens minted for one email in the same second
 * still differ (the proxy accepts each token once). `v1.<expiresAt>.<HMAC>` tokens of earlier
 * versions are still accepted. Only WebCrypto: mint it on Node, Workers, Deno or Bun alike.
 */
import { base64UrlEncode, hmacSign, hmacVerify, importHmacKey } from './crypto.js';

const DOMAIN = 'mautic-tracker/identify/v1';

/** Emails compare case-insensitively and without surrounding whitespace. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface MintIdentityTokenOptions {
  email: string;
  /** The proxy's `identify.tokenSecret` (or its `secret` when no tokenSecret is set). */
  secret: string;
  /** Lifetime; default 600 s (10 minutes). Keep it short: the token rides in page HTML. */
  ttlSeconds?: number;
  /** Clock, ms since epoch (tests). */
  now?: number;
}

/**
 * Mints a token for the logged-in user; put it in the page for `mt('identify', {email, token})`.
 *
 * @example
 * // in the site's backend, after login:
 * const token = await mintIdentityToken({ email: user.email, secret: process.env.MT_SECRET! });
 * // in the page:  mt('identify', { email: "jane@example.com", token: "<token>" });
 */
export async function mintIdentityToken(options: MintIdentityTokenOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? 600;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86_400) throw new RangeError('ttlSeconds must be 1..2592000');
  if (typeof options.secret !== 'string' || options.secret.length < 32) {
    throw new RangeError('secret must be at least 32 characters');
  }
  const expiresAt = Math.floor((options.now ?? Date.now()) / 1000) + ttl;
  const key = await importHmacKey(options.secret);
  const nonce = base64UrlEncode(crypto.getRandomValues(new Uint8Array(12)));
  const sig = await hmacSign(key, `${DOMAIN}|v2|${normalizeEmail(options.email)}|${expiresAt}|${nonce}`);
  return `v2.${expiresAt}.${nonce}.${sig}`;
}

export type TokenCheck = 'valid' | 'invalid' | 'expired';

export class IdentityTokenVerifier {
  private readonly key: Promise<CryptoKey>;

  constructor(secret: string, private readonly now: () => number = Date.now) {
    this.key = importHmacKey(secret);
  }

  /** Constant-time signature check first; expiry is only reported for an authentic token. */
  async check(token: string, email: string): Promise<TokenCheck> {
    if (token.length > 200) return 'invalid';
    const parts = token.split('.');
    if (!/^\d{1,12}$/.test(parts[1] ?? '')) return 'invalid';
    let message: string;
    if (parts.length === 4 && parts[0] === 'v2' && /^[A-Za-z0-9_-]{16}$/.test(parts[2]!)) {
      message = `${DOMAIN}|v2|${normalizeEmail(email)}|${parts[1]}|${parts[2]}`;
    } else if (parts.length === 3 && parts[0] === 'v1') {
      message = `${DOMAIN}|${normalizeEmail(email)}|${parts[1]}`;
    } else {
      return 'invalid';
    }
    const ok = await hmacVerify(await this.key, message, parts[parts.length - 1]!);
    if (!ok) return 'invalid';
    return Number(parts[1]) * 1000 > this.now() ? 'valid' : 'expired';
  }
}

/**
 * The key a spent token is remembered by, and when it expires (ms), for an authentic token
 * (`check` said 'valid'). The signature identifies the token: it covers email and expiry.
 */
export function tokenSpendKey(token: string): { id: string; expiresAtMs: number } {
  const parts = token.split('.');
  return { id: parts[parts.length - 1] ?? token, expiresAtMs: Number(parts[1]) * 1000 };
}
