/**
 * docs/protocol.md §3, byte for byte: under the capture's page context our SDK's POST body must equal the
 * body Mautic's own script sent, and the second pageview must add `counter=1` and
 * `mautic_device_id` before the custom keys.
 */
import { expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, headerOf, rawOf, settle, settlements, readLog } from '../support/e2e-env.js';
import { mauticSnippet } from '../support/site-server.js';
import {
  CAPTURE_CALL_PARAMS,
  CAPTURE_PAGE_URL,
  CAPTURED_BODY,
  CAPTURED_CUSTOM,
  assertLinuxPlatform,
  capturedDefaults,
  openCaptureContext,
} from '../support/capture-context.js';

const env = useE2E();

test('§3: the capture page (snippet calling the custom pageview) sends exactly the captured body', async () => {
  // The capture shows counter=0 together with the custom params, so the capture page's snippet made
  // the custom-param call as its (only) pageview: that is reproduced here. A page that first sent
  // the snippet's bare pageview would have sent the custom one with counter=1 (next test).
  const { page, pageErrors } = await openCaptureContext(
    env,
    mauticSnippet({ scriptUrl: env.scriptUrl, calls: `mt('send','pageview',${CAPTURE_CALL_PARAMS});` }),
  );
  await page.goto(CAPTURE_PAGE_URL);
  await assertLinuxPlatform(page);

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('post');
  expect(hit!.method).toBe('POST');
  expect(hit!.path).toBe('/mtc/event');
  expect(rawOf(hit!)).toBe(CAPTURED_BODY);
  expect(headerOf(hit!.headers, 'content-type')).toBe('application/x-www-form-urlencoded');
  expect(headerOf(hit!.headers, 'x-requested-with')).toBe('XMLHttpRequest');
  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('§3: the snippet’s own pageview sends the captured defaults; the §3 call after it has counter=1 and mautic_device_id before the custom keys', async () => {
  const { page, pageErrors } = await openCaptureContext(env, mauticSnippet({ scriptUrl: env.scriptUrl }));
  await page.goto(CAPTURE_PAGE_URL);
  await assertLinuxPlatform(page);

  const [first] = await waitForHits(env.mautic, 1);
  expect(rawOf(first!)).toBe(capturedDefaults(0));
  // The second pageview goes "after the first response": wait until the page has stored the ids.
  await waitForLog(page, 'delivered');
  const deviceId = await page.evaluate(() => localStorage.getItem('mautic_device_id'));
  expect(deviceId).toMatch(/^[0-9a-z]{1,64}$/);

  await page.evaluate(`mt('send','pageview',${CAPTURE_CALL_PARAMS},__cb('second'))`);
  const hits = await waitForHits(env.mautic, 2);
  expect(rawOf(hits[1]!)).toBe(
    `${capturedDefaults(1)}&mautic_device_id=${encodeURIComponent(deviceId!)}&${CAPTURED_CUSTOM}`,
  );
  expect(hits[1]!.contactId).toBe(first!.contactId);
  await waitForLog(page, 'second', { kind: 'onload' });
  await settle();
  expect(env.mautic.hits).toHaveLength(2);
  expect(settlements(await readLog(page), 'second')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});
