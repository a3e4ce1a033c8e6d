/**
 * One delivering tab at a time: a lease in localStorage (`mt_queue.lease` = `<tab id> <expiry>`).
 * A tab delivers kept sends only while it holds an unexpired lease; a tab that goes away releases
 * it at pagehide, or it expires, and another tab takes it over.
 *
 * localStorage has no compare-and-swap: two tabs may write the lease at once. So a tab that takes
 * it waits `SETTLE_MS` (longer than storage takes to reach the other tabs) and holds it only if it
 * still reads its own value then; of two writers, the last one wins and the other backs off.
 */
import { QUEUE_LEASE_KEY } from '../protocol/wire.js';
import { queueStorage } from './queue-storage.js';

const SETTLE_MS = 150;

const read = (): [string, number] | undefined => {
  try {
    const [tab, until] = (queueStorage()?.getItem(QUEUE_LEASE_KEY) || '').split(' ');
    if (tab && +until! > 0) return [tab, +until!];
  } catch {
    // Blocked storage: no lease, and nothing to deliver either.
  }
};

const write = (value: string): void => {
  try {
    queueStorage()?.setItem(QUEUE_LEASE_KEY, value);
  } catch {
    // Refused: the read-back below sees it is not held.
  }
};

export interface Lease {
  /**
   * Resolves true when this tab holds the lease until `Date.now() + ttlMs` (renewed when it held
   * it already), false when another tab holds an unexpired one or won the race for it.
   */
  take(ttlMs: number): Promise<boolean>;
  /** Gives the lease up (at pagehide, or with nothing left to deliver) if this tab holds it. */
  release(): void;
  /** Milliseconds until another tab's lease expires (0 when none is held by another tab). */
  heldElsewhereFor(): number;
}

/** A lease handle for this tab, `tab` being a random id of the tab (of this page load). */
export const createLease = (tab: string): Lease => {
  const mine = () => read()?.[0] == tab;
  const heldElsewhereFor = (): number => {
    const lease = read();
    return lease && lease[0] != tab ? Math.max(0, lease[1] - Date.now()) : 0;
  };
  return {
    take: async (ttlMs) => {
      if (heldElsewhereFor()) return false;
      const held = mine() && read()![1] > Date.now();
      write(tab + ' ' + (Date.now() + ttlMs));
      // Renewing a lease we hold needs no wait: no other tab writes an unexpired lease.
      if (held) return mine();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      return mine();
    },
    release: () => {
      try {
        if (mine()) queueStorage()?.removeItem(QUEUE_LEASE_KEY);
      } catch {
        // Blocked storage.
      }
    },
    heldElsewhereFor,
  };
};
