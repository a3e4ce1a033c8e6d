/**
 * Custom events: a hit on /mtc/event whose page_url is the current URL with
 * mt_category / mt_action / mt_label / mt_value added before the #fragment, so Mautic stores them in
 * the hit's query and URL filters like `*mt_action=play*` match.
 */
import { expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, settle, settlements, readLog, formPairs, rawOf } from '../support/e2e-env.js';
import { mauticSnippet, sitePage } from '../support/site-server.js';

const env = useE2E();

function eventPage(calls: string): string {
  return sitePage({ title: 'Video', body: mauticSnippet({ scriptUrl: env.scriptUrl, calls }) });
}

test('mt(send, event, Video, play, intro, 3, {email}, {onload}) records a hit carrying the event in page_url and in the stored query', async () => {
  env.site.setPage(
    '/video',
    eventPage("mt('send', 'event', 'Video', 'play', 'intro', 3, {email: 'jane@example.com'}, __cb('ev'));"),
  );
  const { page, pageErrors } = await env.open();
  const pageUrl = env.site.url('/video?lang=de#player');
  await page.goto(pageUrl);

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.via).toBe('post');
  expect(hit!.path).toBe('/mtc/event');
  const sentUrl = hit!.params.page_url!;
  // Added as query parameters before the fragment, the page's own query kept.
  expect(sentUrl.endsWith('#player')).toBe(true);
  const url = new URL(sentUrl);
  expect(url.origin + url.pathname).toBe(env.site.url('/video'));
  expect([...url.searchParams]).toEqual([
    ['lang', 'de'],
    ['mt_category', 'Video'],
    ['mt_action', 'play'],
    ['mt_label', 'intro'],
    ['mt_value', '3'],
  ]);
  expect(hit!.params.email).toBe('jane@example.com');
  expect(formPairs(rawOf(hit!)).at(-1)).toEqual(['email', 'jane@example.com']);
  // What Mautic stores and what segment/campaign URL filters see.
  expect(hit!.query).toMatchObject({ mt_category: 'Video', mt_action: 'play', mt_label: 'intro', mt_value: '3', lang: 'de' });
  expect(hit!.pageUrl).toContain('mt_action=play');

  const [onload] = await waitForLog(page, 'ev', { kind: 'onload' });
  expect(onload).toBeDefined();
  const [delivered] = await waitForLog(page, 'delivered');
  expect(delivered!.detail?.event).toBe('event');
  await settle();
  expect(settlements(await readLog(page), 'ev')).toHaveLength(1);
  expect(env.mautic.hits).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('an event without label and value omits mt_label and mt_value', async () => {
  env.site.setPage('/form', eventPage("mt('send', 'event', 'Form', 'signup');"));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/form'));

  const [hit] = await waitForHits(env.mautic, 1);
  const url = new URL(hit!.params.page_url!);
  expect([...url.searchParams]).toEqual([
    ['mt_category', 'Form'],
    ['mt_action', 'signup'],
  ]);
  expect(hit!.query.mt_action).toBe('signup');
  expect(Object.keys(hit!.query)).not.toContain('mt_label');
  expect(Object.keys(hit!.query)).not.toContain('mt_value');
  expect(pageErrors).toEqual([]);
});

test('event values with spaces, & and non-ASCII arrive intact', async () => {
  env.site.setPage('/shop', eventPage("mt('send', 'event', 'Über uns', 'sign up & go', 'a=b', 0);"));
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/shop'));

  const [hit] = await waitForHits(env.mautic, 1);
  expect(hit!.query).toMatchObject({ mt_category: 'Über uns', mt_action: 'sign up & go', mt_label: 'a=b', mt_value: '0' });
  const url = new URL(hit!.params.page_url!);
  expect(url.searchParams.get('mt_action')).toBe('sign up & go');
  expect(pageErrors).toEqual([]);
});

test('events after a pageview are sent in call order and each settles once', async () => {
  env.site.setPage(
    '/seq',
    eventPage(
      "mt('send', 'pageview', {}, __cb('pv'));\nmt('send', 'event', 'Cta', 'click', 'hero', '', {}, __cb('e1'));\nmt('send', 'event', 'Cta', 'click', 'footer', '', {}, __cb('e2'));",
    ),
  );
  const { page, pageErrors } = await env.open();
  await page.goto(env.site.url('/seq'));

  const hits = await waitForHits(env.mautic, 3);
  expect(hits.map((h) => new URL(h.params.page_url!).searchParams.get('mt_label'))).toEqual([null, 'hero', 'footer']);
  // All three are the same visitor: the later sends waited for the first response's device id.
  expect(new Set(hits.map((h) => h.contactId)).size).toBe(1);
  await waitForLog(page, 'e2', { kind: 'onload' });
  await settle();
  const log = await readLog(page);
  for (const tag of ['pv', 'e1', 'e2']) expect(settlements(log, tag).map((e) => e.kind)).toEqual(['onload']);
  expect(env.mautic.contacts).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});
