/**
 * Identity tokens are single use: the first identify that presents a token spends it, and a
 * replay (same browser or another, same instance or another sharing the store) is refused before
 * any upstream call. A spent token is remembered in the proxy's store until it expires anyway.
 */
import type { ProxyStore } from './store.js';

/** Key namespace of spent tokens in the store. */
export const USED_TOKEN_KEY_PREFIX = 'mt:tok:';

/**
 * Marks the token `id` as spent until `expiresAtMs`. Resolves true for the first claim, false
 * when it was claimed before; rejects when the store fails.
 */
export function spendToken(store: ProxyStore, id: string, expiresAtMs: number, now = Date.now()): Promise<boolean> {
  return store.setIfAbsent(USED_TOKEN_KEY_PREFIX + id, '1', Math.max(1, expiresAtMs - now));
}
