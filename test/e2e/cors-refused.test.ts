/**
 * A fresh Mautic install allows no CORS origin (docs/protocol.md §6): the cross-site POST is refused by the
 * browser, the hit must still be recorded through the pixel, and — unlike Mautic's script (§9.1) —
 * the user's onload must still fire, exactly once.
 */
import { expect, test } from 'vitest';
import { trackThenRedirect, useE2E, waitForHits, waitForLog, settle, settlements, readLog, rawOf } from '../support/e2e-env.js';
import { mauticSnippet, npmTrackerPage, sitePage } from '../support/site-server.js';
import { CAPTURE_CALL_PARAMS, CAPTURE_PAGE_URL, CAPTURED_BODY, openCaptureContext } from '../support/capture-context.js';

const env = useE2E({ cors: 'restrictive' });

test('CORS refused: the hit is recorded once via the pixel, onload fires once, the page hears image:true', async () => {
  env.site.setPage(
    '/p',
    sitePage({
      title: 'Refused',
      body: mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {firstname: 'Pix'}, __cb('pv'));" }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/p'));

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('pixel');
  expect(hit!.method).toBe('GET');
  expect(hit!.path).toBe('/mtracking.gif');
  expect(hit!.params.firstname).toBe('Pix');
  await waitForLog(page, 'pv', { kind: 'onload' });
  const [delivered] = await waitForLog(page, 'delivered');
  expect(delivered!.detail?.image).toBe(true);
  expect(delivered!.detail?.event).toBe('pageview');

  await settle();
  expect(settlements(await readLog(page), 'pv').map((e) => e.kind)).toEqual(['onload']);
  expect(env.mautic.hits).toHaveLength(1);
  expect(env.mautic.contacts).toHaveLength(1);
  // The POST was tried first: the browser's preflight reached the stand-in and was refused.
  expect(env.mautic.requests.some((r) => r.method === 'OPTIONS' && r.path === '/mtc/event')).toBe(true);
  // Nothing learnt cross-site is stored as a bogus value.
  const stored = await page.evaluate(() => [localStorage.getItem('mtc_id'), localStorage.getItem('mautic_device_id')]);
  for (const value of stored) expect(value === null || !/^(null|undefined|)$/.test(value)).toBe(true);
  expect(pageErrors).toEqual([]);
});

test('CORS refused: the pixel carries the same query bytes as the POST body would (§3 capture context)', async () => {
  const { page, pageErrors } = await openCaptureContext(
    env,
    mauticSnippet({ scriptUrl: env.scriptUrl, calls: `mt('send','pageview',${CAPTURE_CALL_PARAMS});` }),
  );
  await page.goto(CAPTURE_PAGE_URL);
  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('pixel');
  expect(rawOf(hit!)).toBe(CAPTURED_BODY);
  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('CORS refused: "track, then redirect" still redirects (Mautic’s script hangs here, §9.1)', async () => {
  const { pageErrors } = await trackThenRedirect(env, 'r@example.com');
  expect(env.mautic.hits.filter((h) => h.params.email === 'r@example.com' && h.via === 'pixel')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('CORS refused: later sends on the same page are delivered too, each settling once', async () => {
  env.site.setPage(
    '/p2',
    sitePage({
      title: 'Refused twice',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: "mt('send', 'pageview', {}, __cb('one'));\nmt('send', 'pageview', {step: '2'}, __cb('two'));",
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/p2'));
  const hits = await waitForHits(env.mautic, 2);
  expect(hits.map((h) => h.params.counter)).toEqual(['0', '1']);
  expect(hits[1]!.params.step).toBe('2');
  await waitForLog(page, 'two', { kind: 'onload' });
  await settle();
  const log = await readLog(page);
  expect(settlements(log, 'one').map((e) => e.kind)).toEqual(['onload']);
  expect(settlements(log, 'two').map((e) => e.kind)).toEqual(['onload']);
  expect(env.mautic.hits).toHaveLength(2);
  expect(pageErrors).toEqual([]);
});

test('CORS refused: a custom event is recorded via the pixel with the event in page_url, and its onload fires once', async () => {
  env.site.setPage(
    '/ev',
    sitePage({
      title: 'Event refused',
      body: mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'event', 'Form', 'signup', 'footer', 1, {}, __cb('ev'));" }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/ev'));

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('pixel');
  expect(hit!.query).toMatchObject({ mt_category: 'Form', mt_action: 'signup', mt_label: 'footer', mt_value: '1' });
  await waitForLog(page, 'ev', { kind: 'onload' });
  const [delivered] = await waitForLog(page, 'delivered');
  expect(delivered!.detail).toMatchObject({ event: 'event', image: true });
  await settle();
  expect(settlements(await readLog(page), 'ev')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('CORS refused, npm entry: tracker.pageview() resolves {ok: true, via: "pixel"}', async () => {
  env.site.setPage('/npm', npmTrackerPage({ title: 'npm', trackerOptions: { url: env.mauticBase } }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/npm'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true, undefined, { timeout: 10_000 });
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { __tracker: { pageview(p?: object): Promise<{ ok: boolean; via?: string }> } }).__tracker.pageview({ from: 'npm' });
    return { ok: r.ok, via: r.via };
  });
  expect(result).toEqual({ ok: true, via: 'pixel' });
  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('pixel');
  expect(hit!.params.from).toBe('npm');
  expect(pageErrors).toEqual([]);
});
