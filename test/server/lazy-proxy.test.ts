/**
 * createLazyMauticProxy: nothing is read or checked until the first request (so a framework's
 * build, which loads route modules without the deployment's secrets, succeeds); a configuration
 * still missing then answers a clear 500; once it is there, requests are relayed.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createLazyMauticProxy } from '../../src/server/index.js';
import { startStandin, type Standin } from '../../src/devserver/index.js';

let mautic: Standin;
beforeAll(async () => {
  mautic = await startStandin();
});
afterAll(() => mautic.close());

it('reads its configuration on the first request, answers 500 while it is invalid, and relays once it is valid', async () => {
  const env: Record<string, string | undefined> = {};
  const configure = vi.fn(() => ({ mauticUrl: env.MAUTIC_URL as string, secret: env.MT_PROXY_SECRET as string }));
  const lazy = createLazyMauticProxy(configure);
  expect(configure).not.toHaveBeenCalled();

  const hit = () =>
    lazy.handle(
      new Request('https://www.example.com/mt/mtc/event', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': 'XMLHttpRequest' },
        body: 'page_url=https%3A%2F%2Fwww.example.com%2F&page_title=Home',
      }),
      { clientIp: '203.0.113.9' },
    );

  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  const refused = await hit();
  expect(refused.status).toBe(500);
  expect(await refused.json()).toEqual({ error: 'proxy_misconfigured', message: 'The tracking proxy is not configured on this server.' });
  expect(logged.mock.calls.join(' ')).toMatch(/mauticUrl is required/);
  expect(logged.mock.calls.join(' ')).toMatch(/secret is required/);
  expect(mautic.hits).toHaveLength(0);
  logged.mockRestore();

  env.MAUTIC_URL = mautic.url;
  env.MT_PROXY_SECRET = 's'.repeat(40);
  const relayed = await hit();
  expect(relayed.status).toBe(200);
  expect(((await relayed.json()) as { id: number }).id).toBeGreaterThan(0);
  expect(mautic.hits.map((h) => h.title)).toEqual(['Home']);
  // Made once, then reused.
  await hit();
  expect(configure).toHaveBeenCalledTimes(2);
});
