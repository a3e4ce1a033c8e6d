/**
 * Returning visitors (docs/protocol.md §4–§5): Mautic's cookies are third-party here (another site), so
 * identity across page loads rests on what the script stores first-party and sends back.
 */
import { expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, settle } from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

const env = useE2E();

function trackedPage(title: string): string {
  return sitePage({ title, body: mauticSnippet({ scriptUrl: env.scriptUrl }) });
}

async function storedIds(page: import('playwright').Page): Promise<{ id: string | null; device: string | null }> {
  return page.evaluate(() => ({
    id: localStorage.getItem('mtc_id'),
    device: localStorage.getItem('mautic_device_id'),
  }));
}

test('a returning visitor sends the stored mautic_device_id and stays the same contact', async () => {
  env.site.setPage('/a', trackedPage('Page A'));
  env.site.setPage('/b', trackedPage('Page B'));
  const { context, page, pageErrors } = await env.open();

  await page.goto(env.site.url('/a'));
  const [first] = await waitForHits(env.mautic, 1);
  const [delivered] = await waitForLog(page, 'delivered');
  const response = delivered!.detail?.response;
  expect(typeof response?.id).toBe('number');
  expect(String(response?.device_id)).toMatch(/^[0-9a-z]{1,64}$/);
  expect(response?.id).toBe(first!.contactId);
  expect(first!.params.mautic_device_id).toBeUndefined();

  // Stored first-party under Mautic's own key names (§5), never as "null".
  expect(await storedIds(page)).toEqual({ id: String(response!.id), device: String(response!.device_id) });
  const cookies = await context.cookies(env.site.url('/'));
  const cookie = (name: string) => cookies.find((c) => c.name === name);
  expect(cookie('mtc_id')?.value).toBe(String(response!.id));
  expect(cookie('mautic_device_id')?.value).toBe(String(response!.device_id));
  expect(cookie('mtc_id')?.path).toBe('/');
  expect(cookie('mautic_device_id')?.path).toBe('/');

  await page.goto(env.site.url('/b'));
  const hits = await waitForHits(env.mautic, 2);
  expect(hits[1]!.params.page_title).toBe('Page B');
  expect(hits[1]!.params.mautic_device_id).toBe(String(response!.device_id));
  expect(hits[1]!.contactId).toBe(first!.contactId);
  await settle();
  expect(env.mautic.contacts).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('another browser (fresh context) is another contact', async () => {
  env.site.setPage('/a', trackedPage('Page A'));
  const one = await env.open();
  await one.page.goto(env.site.url('/a'));
  await waitForHits(env.mautic, 1);
  const two = await env.open();
  await two.page.goto(env.site.url('/a'));
  const hits = await waitForHits(env.mautic, 2);
  expect(hits[1]!.params.mautic_device_id).toBeUndefined();
  expect(hits[1]!.contactId).not.toBe(hits[0]!.contactId);
  expect(env.mautic.contacts).toHaveLength(2);
});

test('a "null" device id left behind by Mautic’s script (§9.6) is not sent back and gets replaced', async () => {
  env.site.setPage('/plain', sitePage({ title: 'Plain' }));
  env.site.setPage('/a', trackedPage('Page A'));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/plain'));
  await page.evaluate(() => {
    localStorage.setItem('mtc_id', 'null');
    localStorage.setItem('mautic_device_id', 'null');
    document.cookie = 'mtc_id=null; path=/';
    document.cookie = 'mautic_device_id=null; path=/';
  });

  await page.goto(env.site.url('/a'));
  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.params.mautic_device_id).not.toBe('null');
  const [delivered] = await waitForLog(page, 'delivered');
  expect(await storedIds(page)).toEqual({
    id: String(delivered!.detail?.response?.id),
    device: String(delivered!.detail?.response?.device_id),
  });
  expect(pageErrors).toEqual([]);
});
