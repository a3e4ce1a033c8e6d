/**
 * Recording, events and export: requests, waitFor, subscribe, snapshot, reset.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin, type StandinChange } from '../../src/devserver/index.js';
import { postHit, postHitJson } from './standin-helpers.js';

describe('stand-in recording', () => {
  let mautic: Standin;
  beforeAll(async () => {
    mautic = await startStandin();
  });
  afterAll(() => mautic.close());
  afterEach(() => mautic.reset());

  it('records every request with method, path, search, headers and body', async () => {
    await postHit(mautic, { page_url: 'x' }, { 'User-Agent': 'test-agent/1' });
    await fetch(`${mautic.url}/mtc?mautic_device_id=abc`);
    const [post, get] = mautic.requests;
    expect(post).toMatchObject({ seq: 1, method: 'POST', path: '/mtc/event', search: '', route: 'event', body: 'page_url=x' });
    expect(post?.headers['user-agent']).toBe('test-agent/1');
    expect(get).toMatchObject({ seq: 2, method: 'GET', path: '/mtc', search: '?mautic_device_id=abc', route: 'ids', body: '' });
    expect(mautic.hits[0]?.userAgent).toBe('test-agent/1');
  });

  it('hands out copies: changing them does not change the records', async () => {
    const { id } = await postHitJson(mautic, { page_url: 'x', tags: 'a' });
    const contacts = mautic.contacts;
    contacts[0]?.tags.push('tampered');
    const hits = mautic.hits;
    if (hits[0]) hits[0].contactId = 99;
    expect(mautic.contacts[0]?.tags).toEqual(['a']);
    expect(mautic.hits[0]?.contactId).toBe(id);
  });

  it('waitFor resolves on a later change, without polling', async () => {
    const waiting = mautic.waitFor((state) => state.hits.length === 2, 10_000);
    await postHitJson(mautic, { page_url: 'one' });
    await postHitJson(mautic, { page_url: 'two' });
    await expect(waiting).resolves.toBeUndefined();
  });

  it('waitFor resolves at once when the predicate is already true', async () => {
    await postHitJson(mautic, { page_url: 'one' });
    await expect(mautic.waitFor((state) => state.contacts.length === 1, 10_000)).resolves.toBeUndefined();
  });

  it('waitFor rejects with a clear message on timeout', async () => {
    await expect(mautic.waitFor((state) => state.hits.length > 5, 50)).rejects.toThrow(
      /waitFor timed out after 50 ms: the predicate never became true \(0 hits/,
    );
  });

  it('waitFor rejects when the predicate throws', async () => {
    await expect(
      mautic.waitFor(() => {
        throw new Error('bad predicate');
      }, 1000),
    ).rejects.toThrow('bad predicate');
  });

  it('emits typed changes to subscribers, and stops after unsubscribe', async () => {
    const changes: StandinChange[] = [];
    const unsubscribe = mautic.subscribe((change) => changes.push(change));
    await postHitJson(mautic, { page_url: 'x' });
    expect(changes.map((change) => change.type)).toEqual(['request', 'contact.created', 'device', 'contact.updated', 'hit']);
    const hitChange = changes.find((change) => change.type === 'hit');
    expect(hitChange?.type === 'hit' && hitChange.hit.pageUrl).toBe('x');
    unsubscribe();
    await postHitJson(mautic, { page_url: 'y' });
    expect(changes).toHaveLength(5);
  });

  it('survives a throwing subscriber', async () => {
    const unsubscribe = mautic.subscribe(() => {
      throw new Error('dashboard bug');
    });
    try {
      const response = await postHit(mautic, { page_url: 'x' });
      expect(response.status).toBe(200);
    } finally {
      unsubscribe();
    }
  });

  it('exports a JSON-serializable snapshot of contacts, hits, requests and API calls', async () => {
    await postHitJson(mautic, { page_url: 'x', tags: 'a' });
    const snapshot = JSON.parse(JSON.stringify(mautic.snapshot())) as ReturnType<Standin['snapshot']>;
    expect(snapshot.version).toBe(1);
    expect(snapshot.url).toBe(mautic.url);
    expect(snapshot.contacts).toEqual(mautic.contacts);
    expect(snapshot.hits).toEqual(mautic.hits);
    expect(snapshot.requests).toHaveLength(1);
    expect(snapshot.apiCalls).toEqual([]);
  });

  it('reset() forgets everything, restarts ids at 1 and tells subscribers', async () => {
    const first = await postHitJson(mautic, { page_url: 'x' });
    mautic.inject({ route: 'event', status: 500 });
    const changes: string[] = [];
    const unsubscribe = mautic.subscribe((change) => changes.push(change.type));
    mautic.reset();
    unsubscribe();
    expect(changes).toEqual(['reset']);
    expect(mautic.hits).toEqual([]);
    expect(mautic.requests).toEqual([]);
    expect(mautic.contacts).toEqual([]);
    const again = await postHitJson(mautic, { page_url: 'x', mautic_device_id: first.device_id ?? '' });
    expect(first.id).toBe(1);
    expect(again.id).toBe(1);
    expect(again.device_id).not.toBe(first.device_id);
    expect(mautic.contacts.map((c) => c.id)).toEqual([again.id]);
  });
});
