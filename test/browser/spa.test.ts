// @vitest-environment jsdom
/**
 * enableAutoPageviews: one hit per distinct URL after pushState / replaceState / popstate, with the
 * title the route sets after the history call, and a stop function that restores history.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createTracker } from '../../src/browser/index.js';
import { formPairs, startRecorder, type Recorder } from './support/recorder.js';

let server: Recorder;
const hits = () => server.requests.filter((r) => r.path === '/mtc/event').map((r) => Object.fromEntries(formPairs(r.body)));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startRecorder();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  history.replaceState(null, '', '/start');
  document.title = 'Start';
});

test('route changes send one pageview per distinct URL, with the new title; stop restores history', async () => {
  const { pushState, replaceState } = history;
  const tracker = createTracker({ url: server.url });
  await tracker.pageview();
  const stop = tracker.enableAutoPageviews();
  expect(history.pushState).not.toBe(pushState);

  // A framework pushes first and sets the title while rendering, after the history call.
  history.pushState({}, '', '/pricing');
  document.title = 'Pricing';
  await server.waitFor(2);

  history.pushState({}, '', '/pricing'); // same URL: not a new page
  history.replaceState({ scroll: 1 }, ''); // state only: not a new page
  await pause(300);
  expect(hits()).toHaveLength(2);

  history.replaceState({}, '', '/pricing?plan=pro');
  document.title = 'Pro plan';
  await server.waitFor(3);

  history.pushState({}, '', '/about');
  history.pushState({}, '', '/team'); // two quick pushes: only where the app ended up counts
  document.title = 'Team';
  await server.waitFor(4);
  await pause(300);
  expect(hits()).toHaveLength(4);

  history.replaceState({}, '', '/pricing'); // what a back navigation leaves behind…
  window.dispatchEvent(new PopStateEvent('popstate')); // …and the event the browser fires
  document.title = 'Pricing again';
  await server.waitFor(5);

  const pages = hits().map((h) => [new URL(h.page_url!).pathname + new URL(h.page_url!).search, h.page_title, h.counter]);
  expect(pages).toEqual([
    ['/start', 'Start', '0'],
    ['/pricing', 'Pricing', '1'],
    ['/pricing?plan=pro', 'Pro plan', '2'],
    ['/team', 'Team', '3'],
    ['/pricing', 'Pricing again', '4'],
  ]);

  stop();
  expect(history.pushState).toBe(pushState);
  expect(history.replaceState).toBe(replaceState);
  history.pushState({}, '', '/after-stop');
  window.dispatchEvent(new PopStateEvent('popstate'));
  await pause(300);
  expect(hits()).toHaveLength(5);
});

test('stop leaves a wrapper installed after ours in place (as a pass-through), so it keeps working', async () => {
  const tracker = createTracker({ url: server.url });
  const stop = tracker.enableAutoPageviews();
  const ours = history.pushState;
  let theirs = 0;
  history.pushState = function (...args: Parameters<History['pushState']>) {
    theirs++;
    return ours.apply(this, args);
  };
  const theirWrapper = history.pushState;
  stop();
  expect(history.pushState).toBe(theirWrapper);
  history.pushState({}, '', '/x');
  expect(theirs).toBe(1);
  expect(location.pathname).toBe('/x');
  await pause(300);
  expect(hits()).toHaveLength(0);
});

test('route pageviews wait for the title the app sets later: in an effect, through an emptied title, or a swapped <title>', async () => {
  const tracker = createTracker({ url: server.url });
  await tracker.pageview();
  const stop = tracker.enableAutoPageviews();

  // React Router + an effect: the title changes a few frames after the history call.
  history.pushState({}, '', '/pricing');
  setTimeout(() => (document.title = 'Pricing'), 120);
  await server.waitFor(2);

  // Next.js in development: the title is emptied first, then set.
  history.pushState({}, '', '/about');
  document.title = '';
  setTimeout(() => (document.title = 'About'), 400);
  await server.waitFor(3);

  // Next.js / Nuxt metadata: a new <title> element replaces the old one.
  history.pushState({}, '', '/blog');
  setTimeout(() => {
    document.querySelector('title')?.remove();
    const title = document.createElement('title');
    title.textContent = 'Blog';
    document.head.append(title);
  }, 60);
  await server.waitFor(4);

  // A route that keeps the title is still a pageview, once the title stayed quiet.
  history.pushState({}, '', '/blog?page=2');
  await server.waitFor(5);

  stop();
  expect(hits().slice(1).map((h) => [new URL(h.page_url!).pathname + new URL(h.page_url!).search, h.page_title])).toEqual([
    ['/pricing', 'Pricing'],
    ['/about', 'About'],
    ['/blog', 'Blog'],
    ['/blog?page=2', 'Blog'],
  ]);
});
