/**
 * Every row of docs/protocol.md §2, driven through Mautic's unchanged snippet on http://site.test against
 * the stand-in on http://mautic.test (another site, so every POST is a real CORS request).
 */
import { expect, test } from 'vitest';
import { DEFAULT_HIT_KEYS } from '../../src/protocol/wire.js';
import {
  trackThenRedirect,
  useE2E,
  waitForHits,
  waitForLog,
  headerOf,
  rawOf,
  formPairs,
  settle,
  settlements,
  readLog,
} from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

// Email and first name publicly updatable, so what a pageview writes shows on the contact.
const env = useE2E({ publiclyUpdatableFields: ['email', 'firstname'] });

/** Default keys a first visit sends: all of §3's defaults except the not-yet-known device id. */
const FIRST_VISIT_KEYS = DEFAULT_HIT_KEYS.filter((key) => key !== 'mautic_device_id');

test('§2 row 1: mt(send, pageview) from the unchanged snippet records one cross-site POST hit with the contract headers', async () => {
  env.site.setPage('/home', sitePage({ title: 'Home page', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  const { page, pageErrors } = await env.open();
  const pageUrl = env.site.url('/home?ref=1');
  await page.goto(pageUrl);

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('post');
  expect(hit!.method).toBe('POST');
  expect(hit!.path).toBe('/mtc/event');
  expect(headerOf(hit!.headers, 'x-requested-with')).toBe('XMLHttpRequest');
  expect(headerOf(hit!.headers, 'content-type')).toBe('application/x-www-form-urlencoded');
  expect(headerOf(hit!.headers, 'origin')).toBe(env.site.url('').replace(/\/$/, ''));
  expect(hit!.params.page_url).toBe(pageUrl);
  expect(hit!.params.page_title).toBe('Home page');
  expect(hit!.params.counter).toBe('0');
  expect(formPairs(rawOf(hit!)).map(([key]) => key)).toEqual(FIRST_VISIT_KEYS);

  // The page hears about the delivery, with the response the stand-in gave.
  const [delivered] = await waitForLog(page, 'delivered');
  expect(delivered!.detail?.event).toBe('pageview');
  expect(delivered!.detail?.params?.page_url).toBe(pageUrl);
  expect(String(delivered!.detail?.response?.id)).toBe(String(hit!.contactId));

  await settle();
  expect(env.mautic.hits).toHaveLength(1);
  expect(env.mautic.contacts).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('§2 row 2: pageview params are sent after the defaults in insertion order and reach the contact', async () => {
  env.site.setPage(
    '/signup',
    sitePage({
      title: 'Sign up',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls:
          "mt('send', 'pageview', {email: 'ann@example.com', firstname: 'Ann', company: 'Acme', tags: 'vip,-cold', utm_source: 'newsletter', page_title: 'Custom title'});",
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/signup'));

  const [hit] = await waitForHits(env.mautic, 1);
  const pairs = formPairs(rawOf(hit!));
  // A custom key named like a default replaces its value in place; the others follow in order.
  expect(pairs.map(([key]) => key)).toEqual([...FIRST_VISIT_KEYS, 'email', 'firstname', 'company', 'tags', 'utm_source']);
  expect(pairs[0]).toEqual(['page_title', 'Custom title']);
  expect(hit!.params).toMatchObject({
    email: 'ann@example.com',
    firstname: 'Ann',
    company: 'Acme',
    tags: 'vip,-cold',
    utm_source: 'newsletter',
  });
  const contact = env.mautic.contacts.find((c) => c.id === hit!.contactId);
  expect(contact?.fields.email).toBe('ann@example.com');
  expect(contact?.fields.firstname).toBe('Ann');
  expect(contact?.tags).toContain('vip');
  expect(contact?.tags).not.toContain('cold');
  expect(contact?.company.company).toBe('Acme');
  expect(pageErrors).toEqual([]);
});

test('§2 row 3: pageview with callbacks calls onload exactly once and never onerror', async () => {
  env.site.setPage(
    '/cb',
    sitePage({
      title: 'Callbacks',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: "mt('send', 'pageview', {email: 'cb@example.com'}, __cb('pv'));",
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/cb'));

  await waitForLog(page, 'pv', { kind: 'onload' });
  await waitForHits(env.mautic, 1);
  await settle();
  expect(settlements(await readLog(page), 'pv').map((e) => e.kind)).toEqual(['onload']);
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('§2 row 3, the docs’ use: "track, then redirect" in onload reaches the next page', async () => {
  const { pageErrors } = await trackThenRedirect(env, 'go@example.com');
  expect(env.mautic.hits.filter((h) => h.params.email === 'go@example.com')).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('§2 row 4: the seed docs’ event form mt(send, event, "", "", "", "", {email}) records a hit with the params and an unchanged page_url', async () => {
  env.site.setPage(
    '/seed',
    sitePage({
      title: 'Seed',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: "mt('send', 'event', '', '', '', '', {email: 'seed@example.com'}, __cb('ev'));",
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  const pageUrl = env.site.url('/seed?x=1');
  await page.goto(pageUrl);

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.path).toBe('/mtc/event');
  expect(hit!.params.email).toBe('seed@example.com');
  // Empty category/action/label/value are omitted from the event encoding.
  expect(hit!.params.page_url).toBe(pageUrl);
  await waitForLog(page, 'ev', { kind: 'onload' });
  const [delivered] = await waitForLog(page, 'delivered');
  expect(delivered!.detail?.event).toBe('event');
  await settle();
  expect(settlements(await readLog(page), 'ev')).toHaveLength(1);
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('page_referrer is the referring page’s host[:port] (§3), page_url the full URL with its hash', async () => {
  env.site.setPage('/to', sitePage({ title: 'Target', body: mauticSnippet({ scriptUrl: env.scriptUrl }) }));
  env.site.setPage('/from', sitePage({ title: 'Origin', body: `<a id="go" href="${env.site.url('/to?x=1#part')}">go</a>` }));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/from', 'other.test'));
  await page.click('#go');

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.params.page_referrer).toBe(`other.test:${env.site.port}`);
  expect(hit!.params.page_url).toBe(env.site.url('/to?x=1#part'));
  expect(pageErrors).toEqual([]);
});

test('mt(config, {url}) before the pageview sends to the configured base instead of the script’s directory', async () => {
  const otherBase = env.mauticBase.replace('mautic.test', 'other.test');
  env.site.setPage(
    '/configured',
    sitePage({
      title: 'Configured',
      body: mauticSnippet({
        scriptUrl: env.scriptUrl,
        calls: `mt('config', {url: ${JSON.stringify(otherBase)}});\nmt('send', 'pageview', {}, __cb('pv'));`,
      }),
    }),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/configured'));

  const [hit] = await waitForHits(env.mautic, 1);
  expect(headerOf(hit!.headers, 'host')).toBe(new URL(otherBase).host);
  await waitForLog(page, 'pv', { kind: 'onload' });
  expect(pageErrors).toEqual([]);
});
