/**
 * What every `ProxyStore` must do, as one suite run against each implementation (memory, Redis):
 * the behaviour the rate limit, single-use tokens and hit ids rely on. Real time, short expiries.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyStore } from '../../../src/server/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `store()` is called inside each test (after the suite's `beforeAll`); keys are unique per test. */
export function describeStoreContract(name: string, store: () => ProxyStore): void {
  let n = 0;
  const key = (label: string): string => `test:${name}:${label}:${Date.now()}:${n++}`;

  describe(`${name}: the ProxyStore contract`, () => {
    it('increment counts from 1 in a fixed window that later increments do not extend', async () => {
      const s = store();
      const k = key('count');
      // Windows long enough for a loaded machine: 2 s, the third increment 0.5 s in.
      expect(await s.increment(k, 2000)).toBe(1);
      // The window began while that first call ran (for Redis, its first command may also wait for
      // the connection), so by now at the latest: "over" below is counted from here.
      const started = Date.now();
      expect(await s.increment(k, 2000)).toBe(2);
      await sleep(500);
      expect(await s.increment(k, 2000)).toBe(3);
      await sleep(started + 2300 - Date.now()); // the window is over, although the last came < 2 s ago
      expect(await s.increment(k, 2000)).toBe(1);
    });

    it('concurrent increments each see their own count (atomic)', async () => {
      const s = store();
      const k = key('atomic');
      const counts = await Promise.all(Array.from({ length: 50 }, () => s.increment(k, 10_000)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('setIfAbsent sets once until the entry expires; exactly one of many concurrent callers wins', async () => {
      const s = store();
      const k = key('once');
      expect(await s.setIfAbsent(k, 'a', 1000)).toBe(true);
      expect(await s.setIfAbsent(k, 'b', 1000)).toBe(false);
      expect(await s.get(k)).toBe('a');
      await sleep(1100);
      expect(await s.get(k)).toBeUndefined();
      // Set again once expired; it must live long enough to be read back on a loaded machine.
      expect(await s.setIfAbsent(k, 'c', 10_000)).toBe(true);
      expect(await s.get(k)).toBe('c');
      const race = key('race');
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.setIfAbsent(race, String(i), 10_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it('set replaces with a new expiry; get reads only unexpired values', async () => {
      const s = store();
      const k = key('value');
      expect(await s.get(k)).toBeUndefined();
      await s.set(k, 'v1', 10_000);
      await s.set(k, 'v2 with spaces, "quotes" and ünïcode', 1000);
      expect(await s.get(k)).toBe('v2 with spaces, "quotes" and ünïcode');
      await sleep(1100);
      expect(await s.get(k)).toBeUndefined();
      // A set of a claimed key replaces the claim (how a hit id's answer is kept), and 1 ms clears it.
      const claimed = key('claimed');
      expect(await s.setIfAbsent(claimed, 'pending', 10_000)).toBe(true);
      await s.set(claimed, 'answer', 10_000);
      expect(await s.get(claimed)).toBe('answer');
      await s.set(claimed, 'released', 1);
      await sleep(20);
      expect(await s.setIfAbsent(claimed, 'again', 10_000)).toBe(true);
    });
  });
}
