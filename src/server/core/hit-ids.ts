/**
 * Exactly-once hits through the proxy. Mautic has no idempotency key, so a browser that retries
 * a hit whose answer it never saw (a timeout, a closed tab, a dropped connection) would record it
 * twice. A hit may carry an id (`mt_hit_id`); the proxy claims it in the store (set-if-absent),
 * forwards the hit without it, and keeps Mautic's answer under the id. A retry of the same hit is
 * answered with that first answer, from any instance sharing the store, and never reaches Mautic.
 *
 * States of a hit id's entry in the store:
 * - `pending`: claimed, the first request is still with Mautic. Lives only as long as that call
 *   may last, so a crashed instance does not block the retry for long.
 * - an answer (JSON, see `StoredAnswer`): Mautic recorded the hit; kept for `hitIdTtlMs`.
 * - `released` for 1 ms, i.e. gone: the first request failed (Mautic unreachable, an error, a
 *   timeout), so a retry is forwarded again. After a timeout Mautic may in fact have recorded the
 *   hit: the one case where a retry can still count twice (preferred to losing the hit).
 */
import { HIT_ID_PARAM, HIT_ID_PATTERN } from '../../protocol/wire.js';
import { filterParams, type TakenParams } from './hit-params.js';
import type { ProxyStore } from './store.js';

/** Key namespace of hit ids in the store. */
export const HIT_ID_KEY_PREFIX = 'mt:hit:';

const PENDING = 'pending';
const RELEASED = 'released';
/** Stored answers larger than this are not kept (a Mautic hit answer is a few hundred bytes). */
const MAX_STORED_ANSWER = 32 * 1024;

/** What the proxy keeps of Mautic's answer to rebuild the same answer for a retry. */
export interface StoredAnswer {
  status: number;
  /** The passed response headers (cache-control, expires, pragma), lower-case names. */
  headers: Array<[string, string]>;
  /** Mautic's raw Set-Cookie values (rewritten again for the retry, as for the first). */
  setCookies: string[];
  /** The answer's text (event: Mautic's JSON object; pixel: empty, the GIF is ours). */
  body: string;
}

const NO_NAMES: ReadonlySet<string> = new Set();

/**
 * The hit id of a form body or query string (without `?`), and the same without every pair PHP
 * would read as `mt_hit_id`. An id is taken only from exactly one pair named exactly `mt_hit_id`
 * with a well-formed value; anything else is stripped and the hit is relayed without an id
 * (at-least-once, as without the parameter): a malformed id never costs a hit. In the same pass,
 * the pairs named in `dropped` are removed (`dropIdentityParams`, hit-params.ts). `changed`:
 * `query` is not the input (forward the original bytes when it is false).
 */
export function takeHitId(query: string, dropped: ReadonlySet<string> = NO_NAMES): { id: string | null; query: string; changed: boolean } {
  const taken: TakenParams = { name: HIT_ID_PARAM, pairs: [] };
  const kept = filterParams(query, dropped, taken);
  if (kept === null) return { id: null, query, changed: false };
  const only = taken.pairs.length === 1 ? taken.pairs[0]! : null;
  const id = only !== null && only[0] === HIT_ID_PARAM && HIT_ID_PATTERN.test(only[1]) ? only[1] : null;
  return { id, query: kept, changed: true };
}

export type HitClaim =
  /** This request delivers the hit: call `record` with Mautic's answer, or `release` on failure. */
  | { kind: 'first' }
  /** Mautic already recorded it: answer with this. */
  | { kind: 'answered'; answer: StoredAnswer }
  /** Another request with this id is still with Mautic after waiting `waitMs`. */
  | { kind: 'in_flight' }
  /** The store failed: relay without exactly-once rather than lose the hit. */
  | { kind: 'unavailable' };

export interface HitLedgerOptions {
  store: ProxyStore;
  /** How long an answered hit id is remembered. */
  ttlMs: number;
  /** How long a claim may stay pending: the longest the first request can take with Mautic. */
  pendingMs: number;
  /** How long a retry waits for a first request still in flight before answering `in_flight`. */
  waitMs: number;
}

export class HitLedger {
  constructor(private readonly options: HitLedgerOptions) {}

  /**
   * Claims `id`. When another request holds it, waits (polling the store with backoff, at most
   * `waitMs`) for its answer, or for its release, which this request then claims.
   */
  async claim(id: string): Promise<HitClaim> {
    const { store, pendingMs, waitMs } = this.options;
    const key = HIT_ID_KEY_PREFIX + id;
    const giveUpAt = Date.now() + waitMs;
    let pause = 20;
    try {
      for (;;) {
        if (await store.setIfAbsent(key, PENDING, pendingMs)) return { kind: 'first' };
        const value = await store.get(key);
        if (value !== undefined && value !== PENDING && value !== RELEASED) {
          const answer = parseStoredAnswer(value);
          // An unreadable entry (another version, a foreign writer): treat the hit as recorded.
          return { kind: 'answered', answer: answer ?? EMPTY_ANSWER };
        }
        const left = giveUpAt - Date.now();
        if (left <= 0) return { kind: 'in_flight' };
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
        pause = Math.min(pause * 2, 250);
      }
    } catch {
      return { kind: 'unavailable' };
    }
  }

  /** Keeps Mautic's answer under `id` for the hit id's lifetime. Resolves false when the store failed. */
  async record(id: string, answer: StoredAnswer): Promise<boolean> {
    let text = JSON.stringify({ v: 1, ...answer });
    // Too large to keep: keep the fact, not the answer (a retry gets an empty success).
    if (text.length > MAX_STORED_ANSWER) text = JSON.stringify({ v: 1, ...EMPTY_ANSWER, status: answer.status });
    try {
      await this.options.store.set(HIT_ID_KEY_PREFIX + id, text, this.options.ttlMs);
      return true;
    } catch {
      return false;
    }
  }

  /** The first request failed: let a retry through (the entry is gone after 1 ms). */
  async release(id: string): Promise<void> {
    try {
      await this.options.store.set(HIT_ID_KEY_PREFIX + id, RELEASED, 1);
    } catch {
      // The pending claim expires by itself after `pendingMs`.
    }
  }
}

/** What a retry gets when the first answer could not be kept: a success without ids. */
const EMPTY_ANSWER: StoredAnswer = {
  status: 200,
  headers: [],
  setCookies: [],
  body: JSON.stringify({ success: 1, id: null, sid: null, device_id: null, events: [] }),
};

function parseStoredAnswer(text: string): StoredAnswer | null {
  try {
    const value = JSON.parse(text) as Partial<StoredAnswer> & { v?: unknown };
    if (value.v !== 1 || typeof value.status !== 'number' || typeof value.body !== 'string') return null;
    if (!Array.isArray(value.headers) || !Array.isArray(value.setCookies)) return null;
    const headers = value.headers.filter((h): h is [string, string] => Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string');
    const setCookies = value.setCookies.filter((c): c is string => typeof c === 'string');
    return { status: value.status, headers, setCookies, body: value.body };
  } catch {
    return null;
  }
}
