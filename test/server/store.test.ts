/**
 * The memory store: the ProxyStore contract, and its bounds (a flood of distinct keys cannot grow
 * it; what it forgets first, and that it counts what it forgot).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/server/index.js';
import { describeStoreContract } from './support/store-contract.js';

describeStoreContract('memory', () => new MemoryStore());

describe('MemoryStore bounds', () => {
  it('never holds more than maxEntries: sweeps expired entries first, then forgets the one expiring soonest', async () => {
    let now = 1_000;
    const store = new MemoryStore({ maxEntries: 3, now: () => now });
    expect(await store.setIfAbsent('a', '1', 4_000)).toBe(true); // until 5 000
    expect(await store.setIfAbsent('b', '1', 1_000)).toBe(true); // until 2 000
    expect(await store.increment('c', 8_000)).toBe(1); // until 9 000
    // Full: b (expiring first) is forgotten, and counted.
    await store.set('d', 'x', 8_000);
    expect(store.size).toBe(3);
    expect(store.evicted).toBe(1);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.setIfAbsent('a', '2', 4_000)).toBe(false); // still remembered
    now = 6_000; // a expired: swept instead of forgetting a live entry
    expect(await store.setIfAbsent('e', '1', 8_000)).toBe(true);
    expect(store.evicted).toBe(1);
    expect(await store.setIfAbsent('a', '3', 8_000)).toBe(true); // an expired entry may be claimed again
    for (let i = 0; i < 1000; i++) await store.increment(`ip-${i}`, 60_000);
    expect(store.size).toBe(3);
    expect(await store.increment('ip-999', 60_000)).toBe(2);
  });

  it('a counter keeps its window: increments do not push its expiry', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    expect(await store.increment('k', 1_000)).toBe(1);
    now = 900;
    expect(await store.increment('k', 1_000)).toBe(2);
    now = 1_000;
    expect(await store.increment('k', 1_000)).toBe(1);
  });
});
