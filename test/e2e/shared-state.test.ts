/**
 * One tracker state per page (issue 11 item 1) when the script tag and the npm entry are both on
 * it, for the same Mautic: one first-send gate (a new visitor is one contact), one counter, and an
 * identical pageview from either sent once. In Chromium against the stand-in, whichever of the
 * two is made first.
 */
import { expect, test } from 'vitest';
import { useE2E, waitForHits, waitForLog, settle, ARRIVES_MS, readLog } from '../support/e2e-env.js';
import { mauticSnippetCode, sitePage } from '../support/site-server.js';

const env = useE2E();

/** The npm entry's tracker for the stand-in, as a module script; `window.__npm` once made. */
const npmModule = (base: string) => `<script type="module">
import { createTracker } from '/dist/index.mjs';
window.__npm = createTracker({ url: ${JSON.stringify(base)} });
</script>`;

for (const first of ['script tag', 'npm entry'] as const) {
  test(`${first} first: one contact, one counter, the identical pageview sent once`, async () => {
    const snippet = `<script>${mauticSnippetCode({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('tag'));" })}</script>`;
    // The second one comes in only once the first one is installed.
    env.site.setPage('/both', sitePage({ title: 'Both', body: first == 'script tag' ? snippet : npmModule(env.mauticBase) }));
    const { page, pageErrors } = await env.open();
    await page.goto(env.site.url('/both'));
    if (first == 'script tag') {
      await page.waitForFunction(() => (window as unknown as { mt?: { mtc?: unknown } }).mt?.mtc, undefined, { timeout: ARRIVES_MS });
      await page.addScriptTag({ type: 'module', content: `import { createTracker } from '/dist/index.mjs'; window.__npm = createTracker({ url: ${JSON.stringify(env.mauticBase)} });` });
    } else {
      await page.waitForFunction(() => (window as unknown as { __npm?: unknown }).__npm, undefined, { timeout: ARRIVES_MS });
      await page.addScriptTag({ content: mauticSnippetCode({ scriptUrl: env.scriptUrl, calls: "mt('send', 'pageview', {}, __cb('tag'));" }) });
    }
    await page.waitForFunction(() => (window as unknown as { __npm?: unknown }).__npm, undefined, { timeout: ARRIVES_MS });

    // The npm entry's pageview of the same page, same title, no params: the script tag's, sent once.
    const npmOutcome = await page.evaluate(async () => {
      const tracker = (window as unknown as { __npm: { pageview(): Promise<{ ok: boolean; params?: Record<string, string> }> } }).__npm;
      const outcome = await tracker.pageview();
      // Plain JSON (an Error has no enumerable fields): its message, if it failed.
      return { ...outcome, message: (outcome as { error?: Error }).error?.message };
    });
    expect(npmOutcome).toMatchObject({ ok: true });
    await waitForLog(page, 'tag', { kind: 'onload' });
    // An event from the npm entry and one from the snippet: counters 1 and 2 of the one counter.
    await page.evaluate(async () => {
      const tracker = (window as unknown as { __npm: { event(c: string, a: string): Promise<unknown> } }).__npm;
      await tracker.event('Video', 'play');
      (window as unknown as { mt: (...args: unknown[]) => void }).mt('send', 'event', 'Video', 'pause', '', '', {}, __cb('pause'));
    });
    await waitForLog(page, 'pause', { kind: 'onload' });

    const hits = await waitForHits(env.mautic, 3);
    await settle();
    expect(env.mautic.hits).toHaveLength(3);
    expect(hits.map((hit) => hit.params.counter)).toEqual(['0', '1', '2']);
    expect(new Set(hits.map((hit) => hit.contactId)).size).toBe(1);
    expect(env.mautic.contacts).toHaveLength(1);
    // The later sends waited for the first one: they carry the device id it taught.
    expect(hits[1]!.params.mautic_device_id).toBe(hits[0]!.deviceId);
    expect(hits[2]!.params.mautic_device_id).toBe(hits[0]!.deviceId);
    // Both pageview calls settled with the one delivery.
    const log = await readLog(page);
    expect(log.filter((entry) => entry.tag == 'tag' && entry.kind == 'onload')).toHaveLength(1);
    expect(log.filter((entry) => entry.kind == 'delivered')).toHaveLength(3);
    expect(npmOutcome.params?.counter).toBe('0');
    expect(pageErrors).toEqual([]);
  });
}

declare const __cb: (tag: string) => unknown;
