/**
 * Dynamic web content (issue 13, docs/protocol.md §8, §10.14) through Mautic's unchanged snippet
 * and the npm entry, in Chromium on http://site.test against the stand-in on http://mautic.test:
 * which slots are asked for, when, with what, and what the page shows for each answer.
 */
import { expect, test } from 'vitest';
import type { Page } from 'playwright';
import { useE2E, waitForHits, settle, ARRIVES_MS, type Standin } from '../support/e2e-env.js';
import { mauticSnippet, npmTrackerPage, sitePage } from '../support/site-server.js';
import type { DynamicContentInput } from '../../src/devserver/standin/types.js';

// The stand-in re-reads this list on every reset, so a test can add an item that names its URL.
const dynamicContent: DynamicContentInput[] = [
    // Only for a contact with a first name: Mautic's own script shows the fallback on a first visit.
    { slotName: 'hero', content: '<b class="dwc">Hello {contactfield=firstname}</b>', filters: [{ field: 'firstname', operator: '!empty' }] },
    { slotName: 'later', content: '<p class="dwc">Shown after the route change</p>' },
    // Content that holds a slot again (Mautic refuses such items; a stand-in serves what it is given).
    { slotName: 'loop', content: '<div class="mautic-slot dwc" data-slot-name="loop">Inner fallback</div>' },
    {
      slotName: 'signup',
      content: '<div id="mauticform_wrapper_newsletter" class="mauticform_wrapper"><form data-mautic-form="newsletter"></form></div>',
    },
];
const env = useE2E({
  // A pageview's firstname reaches the contact, so a filter on it tells a known visitor from a new one.
  publiclyUpdatableFields: ['firstname'],
  dynamicContent,
});

const dwcRequests = (mautic: Standin) => mautic.requests.filter((r) => r.path.startsWith('/dwc/'));
const query = (search: string) => Object.fromEntries(new URLSearchParams(search));

/** The text of the first element matching `selector`, once it differs from `unlike`. */
async function textOnceChanged(page: Page, selector: string, unlike: string): Promise<string> {
  await page.waitForFunction(
    ({ selector, unlike }) => document.querySelector(selector)?.textContent !== unlike,
    { selector, unlike },
    { timeout: ARRIVES_MS },
  );
  return page.$eval(selector, (el) => el.textContent ?? '');
}

test('a first-time visitor’s slot is asked after the pageview made them a contact, so it fills on the first visit', async () => {
  env.site.setPage(
    '/welcome',
    sitePage({
      title: 'Welcome',
      body: `<div id="hero" data-slot="dwc" data-param-slot-name="hero">Fallback hero</div>
${mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {firstname: 'Kim'});" })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/welcome?from=ad'));

  expect(await textOnceChanged(page, '#hero', 'Fallback hero')).toBe('Hello Kim');
  const [hit] = await waitForHits(env.mautic, 1);
  // A first visit: the hit knew no device yet; the slot request carries the one the answer gave.
  expect(hit!.params.mautic_device_id).toBeUndefined();
  const [request] = dwcRequests(env.mautic).filter((r) => r.method === 'GET');
  expect(request!.path).toBe('/dwc/hero');
  expect(request!.headers['x-requested-with']).toBe('XMLHttpRequest');
  expect(request!.seq).toBeGreaterThan(env.mautic.requests.find((r) => r.path === '/mtc/event')!.seq);
  const sent = query(request!.search);
  // The pageview's parameters, as Mautic's script sends them, and the device id.
  expect(sent).toMatchObject({ page_title: 'Welcome', page_url: env.site.url('/welcome?from=ad'), counter: '0', firstname: 'Kim' });
  expect(sent.mautic_device_id).toBe(hit!.deviceId);
  // The answer's ids are the visitor's.
  expect(await page.evaluate(() => localStorage.getItem('mtc_id'))).toBe(String(hit!.contactId));
  expect(await page.$eval('#hero b', (el) => el.className)).toBe('dwc');
  await settle();
  expect(dwcRequests(env.mautic).filter((r) => r.method === 'GET')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('204 answers keep the fallback: no matching item, an unknown slot; a slot without a name is not asked', async () => {
  env.site.setPage(
    '/plain',
    sitePage({
      title: 'Plain',
      body: `<div id="hero" class="mautic-slot" data-slot-name="hero">Fallback hero</div>
<div id="nothing" data-slot="dwc" data-param-slot-name="no-such-slot">Fallback nothing</div>
<div id="unnamed" class="mautic-slot">Fallback unnamed</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  const answers: number[] = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/dwc/') && response.request().method() === 'GET') answers.push(response.status());
  });
  await page.goto(env.site.url('/plain'));
  await env.mautic.waitFor(() => dwcRequests(env.mautic).filter((r) => r.method === 'GET').length === 2, ARRIVES_MS);
  await settle();

  expect(answers.sort()).toEqual([204, 204]);
  expect(
    dwcRequests(env.mautic)
      .filter((r) => r.method === 'GET')
      .map((r) => r.path)
      .sort(),
  ).toEqual(['/dwc/hero', '/dwc/no-such-slot']);
  expect(await page.$eval('#hero', (el) => el.textContent)).toBe('Fallback hero');
  expect(await page.$eval('#nothing', (el) => el.textContent)).toBe('Fallback nothing');
  expect(await page.$eval('#unnamed', (el) => el.textContent)).toBe('Fallback unnamed');
  expect(pageErrors).toEqual([]);
});

test('a failing /dwc keeps the fallback and breaks nothing', async () => {
  env.mautic.inject({ route: 'dwc', status: 500, times: 5 });
  env.site.setPage(
    '/broken',
    sitePage({
      title: 'Broken',
      body: `<div id="later" class="mautic-slot" data-slot-name="later">Fallback later</div>
${mauticSnippet({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('pv'));" })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/broken'));
  await env.mautic.waitFor(() => dwcRequests(env.mautic).some((r) => r.method === 'GET'), ARRIVES_MS);
  await settle();
  expect(await page.$eval('#later', (el) => el.textContent)).toBe('Fallback later');
  expect(pageErrors).toEqual([]);
});

test('a slot inside another slot is not asked for, so content holding its own slot asks once', async () => {
  env.site.setPage(
    '/loop',
    sitePage({
      title: 'Loop',
      body: `<div id="outer" class="mautic-slot" data-slot-name="loop">Outer fallback</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/loop'));
  expect(await textOnceChanged(page, '#outer', 'Outer fallback')).toBe('Inner fallback');
  await settle();
  expect(dwcRequests(env.mautic).filter((r) => r.method === 'GET').map((r) => r.path)).toEqual(['/dwc/loop']);
  expect(pageErrors).toEqual([]);
});

test('a page that already has a MauticJS (Mautic’s own script) keeps it, and slots are left to it', async () => {
  env.site.setPage(
    '/both',
    sitePage({
      title: 'Both',
      head: '<script>window.MauticJS = { own: true };</script>',
      body: `<div id="later" class="mautic-slot" data-slot-name="later">Fallback later</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/both'));
  await waitForHits(env.mautic, 1);
  await settle();
  expect(await page.evaluate(() => (window as unknown as { MauticJS: unknown }).MauticJS)).toEqual({ own: true });
  expect(dwcRequests(env.mautic)).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('a page without slots makes no /dwc request', async () => {
  env.site.setPage('/no-slots', sitePage({ title: 'No slots', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/no-slots'));
  await waitForHits(env.mautic, 1);
  // Later DOM changes without a slot ask for nothing either.
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<div class="not-a-slot">x</div>'));
  await settle();
  expect(dwcRequests(env.mautic)).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('npm entry: a slot rendered after a route change is filled, with the device id the first pageview taught', async () => {
  env.site.setPage(
    '/app/home',
    npmTrackerPage({
      title: 'Home',
      trackerOptions: { url: env.mauticBase },
      body: '<main id="view">Home view</main>',
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/app/home'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true, undefined, { timeout: ARRIVES_MS });
  await page.evaluate(async () => {
    const tracker = (window as unknown as { __tracker: { pageview(): Promise<unknown>; enableAutoPageviews(): () => void } }).__tracker;
    await tracker.pageview();
    tracker.enableAutoPageviews();
  });
  const [first] = await waitForHits(env.mautic, 1);
  expect(dwcRequests(env.mautic)).toEqual([]);

  // The router changes the URL, then renders the new view, which has a slot.
  await page.evaluate(() => {
    history.pushState({}, '', '/app/offer');
    document.title = 'Offer';
    document.getElementById('view')!.innerHTML = '<section data-slot="dwc" data-slot-name="later" id="offer-slot">Fallback offer</section>';
  });
  expect(await textOnceChanged(page, '#offer-slot', 'Fallback offer')).toBe('Shown after the route change');
  const [request] = dwcRequests(env.mautic).filter((r) => r.method === 'GET');
  expect(request!.path).toBe('/dwc/later');
  expect(query(request!.search).mautic_device_id).toBe(first!.deviceId);
  await waitForHits(env.mautic, 2);
  await settle();
  expect(dwcRequests(env.mautic).filter((r) => r.method === 'GET')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('content holding a Mautic form loads Mautic’s form script from the Mautic base, only then, once', async () => {
  env.site.setPage(
    '/signup',
    sitePage({
      title: 'Sign up',
      body: `<div id="signup" class="mautic-slot" data-slot-name="signup">Fallback form</div>
<div id="later" class="mautic-slot" data-slot-name="later">Fallback later</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/signup'));
  await page.waitForSelector('#signup form[data-mautic-form="newsletter"]', { state: 'attached', timeout: ARRIVES_MS });
  await env.mautic.waitFor(() => env.mautic.requests.some((r) => r.path === '/media/js/mautic-form.js'), ARRIVES_MS);
  await settle();
  expect(env.mautic.requests.filter((r) => r.path === '/media/js/mautic-form.js')).toHaveLength(1);
  // What Mautic's form script reads, set because a form arrived.
  expect(await page.evaluate(() => (window as unknown as { MauticDomain?: string }).MauticDomain)).toBe(env.mauticBase);
  expect(await page.evaluate(() => (window as unknown as { MauticLang?: { submittingMessage: string } }).MauticLang?.submittingMessage)).toBe(
    'Please wait...',
  );
  expect(pageErrors).toEqual([]);
});

test('content without a form loads no form script and sets no form globals', async () => {
  env.site.setPage(
    '/offer',
    sitePage({
      title: 'Offer',
      body: `<div id="later" class="mautic-slot" data-slot-name="later">Fallback later</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/offer'));
  expect(await textOnceChanged(page, '#later', 'Fallback later')).toBe('Shown after the route change');
  await settle();
  expect(env.mautic.requests.filter((r) => r.path.startsWith('/media/'))).toEqual([]);
  expect(await page.evaluate(() => 'MauticDomain' in window || 'MauticLang' in window)).toBe(false);
  expect(pageErrors).toEqual([]);
});

test('MauticJS: documentReady, onFirstEventDelivery (before and after the first delivery), setTrackedContact, getTrackedContact', async () => {
  env.site.setPage(
    '/api',
    sitePage({
      title: 'API',
      body: `${mauticSnippet({ scriptUrl: env.scriptUrl, calls: '' })}
<script>
window.__seen = [];
// The snippet loads the script async: site code waits for it like for any async script.
window.__whenMauticJS = new Promise(function (done) {
  (function poll() { window.MauticJS ? done() : setTimeout(poll, 10); })();
});
__whenMauticJS.then(function () {
  MauticJS.documentReady(function () { __seen.push('ready:' + document.readyState); });
  MauticJS.onFirstEventDelivery(function (detail) { __seen.push('first:' + detail.event + ':' + detail.response.id); });
  MauticJS.onFirstEventDelivery(function () { throw new Error('site bug'); });
});
</script>`,
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/api'));
  await page.evaluate(() => (window as unknown as { __whenMauticJS: Promise<void> }).__whenMauticJS);
  // No hit yet: MauticJS.getTrackedContact learns the ids from GET /mtc.
  await page.evaluate(() => (window as unknown as { MauticJS: { getTrackedContact(): void } }).MauticJS.getTrackedContact());
  await page.waitForFunction(() => localStorage.getItem('mautic_device_id') !== null, undefined, { timeout: ARRIVES_MS });
  const learnt = env.mautic.contacts[0]!;
  expect(await page.evaluate(() => localStorage.getItem('mtc_id'))).toBe(String(learnt.id));

  await page.evaluate(() => (window as unknown as { mt(...args: unknown[]): void }).mt('send', 'pageview'));
  const [hit] = await waitForHits(env.mautic, 1);
  await page.waitForFunction(() => (window as unknown as { __seen: string[] }).__seen.length >= 2, undefined, { timeout: ARRIVES_MS });
  // Registered after the first delivery: called at once with it (Mautic's script never calls it).
  const late = await page.evaluate(
    () =>
      new Promise<string>((done) =>
        (window as unknown as { MauticJS: { onFirstEventDelivery(f: (d: { event: string }) => void): void } }).MauticJS.onFirstEventDelivery((d) =>
          done('late:' + d.event),
        ),
      ),
  );
  expect(late).toBe('late:pageview');
  expect((await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)).sort()).toEqual([
    'first:pageview:' + hit!.contactId,
    'ready:complete',
  ]);

  // setTrackedContact stores valid ids only.
  await page.evaluate(() => {
    const api = (window as unknown as { MauticJS: { setTrackedContact(r: unknown): void } }).MauticJS;
    api.setTrackedContact({ id: 77, device_id: 'abc123' });
    api.setTrackedContact({ id: 'null', device_id: 'null' });
    api.setTrackedContact(null);
  });
  expect(await page.evaluate(() => [localStorage.getItem('mtc_id'), localStorage.getItem('mautic_device_id')])).toEqual(['77', 'abc123']);
  expect(pageErrors).toEqual([]);
});

test('a focus item embedded in the content (Mautic’s {focus=…} script tag) loads from the Mautic origin, once; one from elsewhere never', async () => {
  env.site.setPage('/focus/8.js', 'document.body.setAttribute("data-foreign-focus", "ran");');
  // What Mautic puts in the content for a {focus=4} token, next to a script from another origin.
  dynamicContent.push({
    slotName: 'promo',
    content:
      `<p class="dwc">Promo</p><script src="${env.mauticBase}/focus/4.js" type="text/javascript" charset="utf-8" async="async"></script>` +
      `<script src="${env.site.url('/focus/8.js')}"></script>`,
  });
  env.mautic.reset();
  try {
    env.site.setPage(
      '/promo',
      sitePage({
        title: 'Promo',
        body: `<div id="promo" data-slot="dwc" data-slot-name="promo">Fallback promo</div>
<div class="mautic-slot" data-slot-name="promo" id="promo-2">Second slot, same item</div>
${mauticSnippet({ scriptUrl: env.scriptUrl })}`,
      }),
    );
    const { page, pageErrors } = await env.open();
    await page.goto(env.site.url('/promo'));
    await page.waitForSelector('.mautic-focus[data-focus-id="4"]', { timeout: ARRIVES_MS });
    expect(await page.$eval('#promo .dwc', (el) => el.textContent)).toBe('Promo');
    await settle();
    // Two slots brought the same focus item: its script came once, and drew once.
    expect(env.mautic.requests.filter((r) => r.path.startsWith('/focus/')).map((r) => r.method + ' ' + r.path)).toEqual(['GET /focus/4.js']);
    expect(await page.$$eval('.mautic-focus', (els) => els.length)).toBe(1);
    expect(env.site.requested.filter((path) => path.startsWith('/focus/'))).toEqual([]);
    expect(await page.evaluate(() => document.body.getAttribute('data-foreign-focus'))).toBeNull();
    expect(pageErrors).toEqual([]);
  } finally {
    dynamicContent.pop();
  }
});
