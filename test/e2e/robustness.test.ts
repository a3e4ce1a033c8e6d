/**
 * The snippet in the situations real sites create (docs/protocol.md §1): injected late by a tag manager,
 * pasted twice, the script included twice, a renamed global, and odd input. Nothing may throw into
 * the page, nothing may be sent twice, and the script adds no global but the snippet's name.
 */
import { expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, settle, settlements, readLog, formPairs, rawOf } from '../support/e2e-env.js';
import { mauticSnippet, mauticSnippetCode, sitePage } from '../support/site-server.js';

const env = useE2E();

test('late injection: a tag manager inserting the snippet after window load still sends one pageview', async () => {
  const code = mauticSnippetCode({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('late'));" });
  env.site.setPage(
    '/late',
    sitePage({
      title: 'Late',
      body: `<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var s = document.createElement('script');
    s.text = ${JSON.stringify(code)};
    document.head.appendChild(s);
    window.__injected = document.readyState;
  }, 50);
});
</script>`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/late'));

  const [hit] = await waitForHits(env.mautic, 1);
  expect(await page.evaluate(() => (window as unknown as { __injected: string }).__injected)).toBe('complete');
  expect(hit!.params.page_title).toBe('Late');
  await waitForLog(page, 'late', { kind: 'onload' });
  await settle();
  expect(settlements(await readLog(page), 'late')).toHaveLength(1);
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('double load: the snippet pasted twice sends one pageview, makes one contact, and settles both callbacks once', async () => {
  const twice =
    mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('first'));" }) +
    '\n<p>content</p>\n' +
    mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('second'));" });
  env.site.setPage('/twice', sitePage({ title: 'Twice', body: twice }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/twice'));

  await waitForHits(env.mautic, 1);
  await waitForLog(page, 'first', { kind: 'onload' });
  await waitForLog(page, 'second', { kind: 'onload' });
  await settle();
  const log = await readLog(page);
  expect(settlements(log, 'first')).toHaveLength(1);
  expect(settlements(log, 'second')).toHaveLength(1);
  expect(env.mautic.hits).toHaveLength(1);
  expect(env.mautic.contacts).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('double load: the script included twice (snippet plus a plain script tag) sends one pageview and one contact', async () => {
  const body =
    mauticSnippet({ scriptUrl: env.scriptUrl }) + `\n<script src="${env.scriptUrl}"></script>\n<script async src="${env.scriptUrl}?v=2"></script>`;
  env.site.setPage('/script-twice', sitePage({ title: 'Script twice', body }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/script-twice'));

  await waitForHits(env.mautic, 1);
  // Wait until every copy of the script has run before judging "nothing sent twice".
  await page.waitForLoadState('load');
  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(env.mautic.contacts).toHaveLength(1);
  // Calls after the copies loaded are still sent once.
  await page.evaluate("mt('send', 'pageview', {after: 'load'}, __cb('after'))");
  await waitForLog(page, 'after', { kind: 'onload' });
  await settle();
  expect(env.mautic.hits.filter((h) => h.params.after === 'load')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('double load: a tag manager adding the snippet again after the hard-coded one loaded sends nothing twice', async () => {
  const again = mauticSnippetCode({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('again'));" });
  env.site.setPage(
    '/gtm-too',
    sitePage({
      title: 'Hard-coded and GTM',
      body: `${mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('first'));" })}
<script>
window.__inject = function () {
  var s = document.createElement('script');
  s.text = ${JSON.stringify(again)};
  document.head.appendChild(s);
};
</script>`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/gtm-too'));
  await waitForLog(page, 'first', { kind: 'onload' });

  await page.evaluate(() => (window as unknown as { __inject(): void }).__inject());
  // The injected snippet's pageview settles with the first one's outcome...
  await waitForLog(page, 'again', { kind: 'onload' });
  // ...and its second copy of the script has loaded (and so run) before duplicates are counted.
  await page.waitForFunction(
    () => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/mtc.js').length >= 2,
    undefined,
    { timeout: 10_000 },
  );
  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(env.mautic.contacts).toHaveLength(1);
  const log = await readLog(page);
  expect(settlements(log, 'first')).toHaveLength(1);
  expect(settlements(log, 'again')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test.each(['mt', '__mt'])('global %s: only the snippet’s name, MauticTrackingObject and MauticJS are added to window', async (name) => {
  env.site.setPage(
    '/named',
    sitePage({
      title: 'Named',
      head: '<script>window.__keysBefore = Object.keys(window);</script>',
      body: mauticSnippet({ scriptUrl: env.scriptUrl, name, calls: `${name}('send', 'pageview', {}, __cb('pv'));` }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/named'));
  await waitForHits(env.mautic, 1);
  await waitForLog(page, 'pv', { kind: 'onload' });

  // After load, the renamed global runs commands at once.
  await page.evaluate(`${name}('send', 'event', 'Nav', 'click', '', '', {}, __cb('ev'))`);
  const events = await waitForHits(env.mautic, 1, (h) => h.params.page_url?.includes('mt_action=click') ?? false);
  expect(events).toHaveLength(1);
  await waitForLog(page, 'ev', { kind: 'onload' });

  const added = await page.evaluate(() => {
    const before = new Set((window as unknown as { __keysBefore: string[] }).__keysBefore);
    return Object.keys(window).filter((key) => !before.has(key) && key !== '__keysBefore').sort();
  });
  expect(added).toEqual(['MauticJS', 'MauticTrackingObject', name].sort());
  if (name !== 'mt') expect(await page.evaluate(() => 'mt' in window)).toBe(false);
  expect(pageErrors).toEqual([]);
});

const ODD_CALLS = `mt();
mt(42);
mt('send');
mt('send', 'nonsense');
mt('unknown-command', 1, 2);
mt('config', null);
mt('config', 'not an object');
mt({});
mt(null, null);
mt({toString: function () { throw new Error('hostile toString'); }});`;

const ODD_VALUES = "{a: null, b: undefined, c: {x: 1}, d: [1, 2], e: function () { return 1; }, f: true, g: 0, h: ''}";

function expectOddValuesBody(raw: string): void {
  const pairs = formPairs(raw);
  const keys = pairs.map(([key]) => key);
  for (const left of ['a', 'b', 'c', 'e']) expect(keys).not.toContain(left);
  expect(raw).not.toMatch(/=(null|undefined)(&|$)|object%20Object/);
  // Custom keys follow the defaults (mautic_device_id is the last default once known).
  expect(pairs.slice(-4)).toEqual([
    ['d', '1,2'],
    ['f', 'true'],
    ['g', '0'],
    ['h', ''],
  ]);
  expect(raw.endsWith('&d=1%2C2&f=true&g=0&h=')).toBe(true);
}

test('odd input queued before the script loads: no page error, the queue keeps going, odd values are left out', async () => {
  env.site.setPage(
    '/odd-queued',
    sitePage({
      title: 'Odd queued',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: `mt('send', 'pageview', null, null);\n${ODD_CALLS}\nmt('send', 'pageview', ${ODD_VALUES}, __cb('odd'));`,
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/odd-queued'));

  const hits = await waitForHits(env.mautic, 2);
  // mt('send','pageview', null, null) is a plain pageview (Mautic's script throws here, §9.3).
  expect(formPairs(rawOf(hits[0]!)).map(([k]) => k)).not.toContain('d');
  expect(hits[0]!.params.counter).toBe('0');
  expectOddValuesBody(rawOf(hits[1]!));
  await waitForLog(page, 'odd', { kind: 'onload' });
  await settle();
  expect(env.mautic.hits).toHaveLength(2);
  expect(pageErrors).toEqual([]);
});

test('odd input after the script loaded: mt() never throws, odd values are left out', async () => {
  env.site.setPage('/odd-live', sitePage({ title: 'Odd live', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/odd-live'));
  await waitForHits(env.mautic, 1);
  await waitForLog(page, 'delivered');

  // Synchronous throws would reject page.evaluate; asynchronous ones land in pageErrors.
  await page.evaluate(`mt('send', 'pageview', null, null);\n${ODD_CALLS}\nmt('send', 'pageview', ${ODD_VALUES}, __cb('odd'));`);
  const [odd] = await waitForHits(env.mautic, 1, (h) => h.params.d === '1,2');
  expectOddValuesBody(rawOf(odd!));
  await waitForLog(page, 'odd', { kind: 'onload' });
  await settle();
  // The snippet's bare pageview and the odd-values one. (null, null) params are no params, so that
  // call repeats the bare pageview right before it: a duplicate by our rule (README, "Where the bytes differ"), not sent again.
  expect(env.mautic.hits).toHaveLength(2);
  expect(pageErrors).toEqual([]);
});

test('a send whose params throw while being read still settles exactly once and throws nothing into the page', async () => {
  env.site.setPage(
    '/hostile',
    sitePage({
      title: 'Hostile',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: `var hostile = {ok: 'yes'};
Object.defineProperty(hostile, 'bad', {enumerable: true, get: function () { throw new Error('hostile getter'); }});
mt('send', 'pageview', hostile, __cb('hostile'));
mt('send', 'pageview', {after: 'hostile'}, __cb('after'));`,
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/hostile'));

  // The next send still goes out: one bad call does not wedge the queue.
  await waitForLog(page, 'after', { kind: 'onload' });
  await waitForHits(env.mautic, 1, (h) => h.params.after === 'hostile');
  await waitForLog(page, 'hostile');
  await settle();
  expect(settlements(await readLog(page), 'hostile')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('unknown commands are silent by default and warned about with debug on', async () => {
  env.site.setPage('/quiet', sitePage({ title: 'Quiet', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  const { page, pageErrors } = await env.open();
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  await page.goto(env.site.url('/quiet'));
  await waitForHits(env.mautic, 1);
  await waitForLog(page, 'delivered');

  await page.evaluate("mt('bogus-command', 1)");
  // console.warn would run synchronously inside mt(); 0.5 s covers its delivery to the test.
  await settle(500);
  expect(warnings).toEqual([]);
  await page.evaluate("mt('config', {debug: true}); mt('bogus-command', 2)");
  await expect.poll(() => warnings.length, { timeout: 5_000 }).toBeGreaterThan(0);
  expect(pageErrors).toEqual([]);
});
