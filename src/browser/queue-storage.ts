/**
 * Where the durable queue keeps sends: first-party localStorage, one key per kept send
 * (`mt_queue_<id>`), so tabs that add and remove sends at the same time never overwrite each
 * other's writes (there is no read-modify-write of a shared list).
 *
 * Every access goes through `queueStorage()`, which the consent rules gate (consent.ts).
 * Storage can throw (Safari private mode, sandboxed iframes, a full quota): every access is
 * guarded, and a failure means "nothing kept".
 */
import { QUEUE_KEY_PREFIX } from '../protocol/wire.js';
import { mayStore } from './consent.js';
import type { HitParams, QueueBoundsOption as QueueBounds } from './types.js';

/** A kept send, as stored (short keys: the queue lives in the visitor's storage quota). */
export interface QueuedSend {
  /** Its id: the key's suffix, and the `mt_hit_id` sent through the proxy. */
  i: string;
  /** When it was called (ms since the epoch): its place in the queue and its age. */
  t: number;
  /** Tie-break for sends of one tab called in the same millisecond. */
  s: number;
  /** `pageview` or `event`. */
  k: 'pageview' | 'event';
  /** The event route URL (POST) and the pixel URL (its fallback). */
  u: string;
  x: string;
  /** The hit's parameters, as first put on the wire. */
  p: HitParams;
  /** Through the proxy: the hit carries `mt_hit_id`, and any failure may be retried. */
  h?: 1;
  /** Until then (ms since the epoch), the tab that made it is still trying it itself. */
  w?: number;
}


export const DEFAULT_BOUNDS: QueueBounds = { maxSends: 50, maxBytes: 64 * 1024, maxAgeMs: 24 * 3600 * 1000 };

/**
 * The storage the queue may use, or undefined: none while nothing may be stored (consent
 * required and not granted, a deny, a privacy signal: consent.ts), so nothing is kept, read or
 * delivered from storage then.
 */
export const queueStorage = (): Storage | undefined => {
  try {
    if (!mayStore || mayStore()) return localStorage;
  } catch {
    // Blocked storage: nothing can be kept.
  }
};

const parse = (text: string | null): QueuedSend | undefined => {
  try {
    const entry = JSON.parse(text!) as QueuedSend;
    if (typeof entry.i == 'string' && typeof entry.t == 'number' && typeof entry.u == 'string' && typeof entry.x == 'string' && entry.p && typeof entry.p == 'object') return entry;
  } catch {
    // Not ours or damaged: treated as absent (and dropped by the next prune).
  }
};

/** Writes `entry`; false when storage refused it (blocked, or its quota full). */
export const writeSend = (entry: QueuedSend): boolean => {
  try {
    queueStorage()!.setItem(QUEUE_KEY_PREFIX + entry.i, JSON.stringify(entry));
    return true;
  } catch {
    return false;
  }
};

export const removeSend = (id: string): void => {
  try {
    queueStorage()?.removeItem(QUEUE_KEY_PREFIX + id);
  } catch {
    // Blocked storage: nothing was kept either.
  }
};

/** Every kept send of this origin, oldest first, with its stored length. */
export const listSends = (): Array<{ entry: QueuedSend; size: number; key: string }> => {
  const found: Array<{ entry: QueuedSend; size: number; key: string }> = [];
  try {
    const storage = queueStorage();
    if (!storage) return found;
    for (let index = 0; index < storage.length; index++) {
      const key = storage.key(index);
      if (!key?.startsWith(QUEUE_KEY_PREFIX)) continue;
      const text = storage.getItem(key);
      const entry = parse(text);
      // A damaged entry weighs nothing and never delivers: it is dropped as too old.
      found.push(entry ? { entry, size: key.length + text!.length, key } : { entry: { i: key.slice(QUEUE_KEY_PREFIX.length), t: 0, s: 0 } as QueuedSend, size: 0, key });
    }
  } catch {
    // Blocked storage: an empty queue.
  }
  return found.sort((a, b) => a.entry.t - b.entry.t || a.entry.s - b.entry.s || (a.entry.i < b.entry.i ? -1 : 1));
};

/**
 * Drops what is past `bounds` (too old first, then the oldest while there are too many or they
 * weigh too much) and returns what is left, oldest first. `dropped` hears of each dropped send.
 */
export const pruneSends = (bounds: QueueBounds, now: number, dropped: (entry: QueuedSend, why: string) => void): QueuedSend[] => {
  let kept = listSends();
  let total = 0;
  for (const item of kept) total += item.size;
  const drop = (item: { entry: QueuedSend; size: number; key: string }, why: string) => {
    try {
      queueStorage()?.removeItem(item.key);
    } catch {
      // Blocked storage.
    }
    total -= item.size;
    if (item.size) dropped(item.entry, why);
  };
  kept = kept.filter((item) => (now - item.entry.t > bounds.maxAgeMs ? (drop(item, 'too old'), false) : true));
  while (kept.length > bounds.maxSends || (kept.length && total > bounds.maxBytes)) drop(kept.shift()!, kept.length >= bounds.maxSends ? 'queue full' : 'queue too large');
  return kept.map((item) => item.entry);
};
