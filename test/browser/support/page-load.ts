/**
 * A fresh page load for jsdom tests of the npm entry's durable queue and consent: the state the
 * entry keeps per page (shared cores, queues, MauticJS) is dropped and the modules are imported
 * anew, and what the tests need of the page around it.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { TRACKING_ANSWER, type Recorder } from './recorder.js';
import { QUEUE_KEY_PREFIX } from '../../../src/protocol/wire.js';

/** Forgets the page's tracker state; the next `freshEntry()` is a new page's npm entry. */
export function newPageLoad(): void {
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.cores'));
  Reflect.deleteProperty(window, Symbol.for('mautic-tracker.queues'));
  Reflect.deleteProperty(window, 'MauticJS');
  vi.resetModules();
}

/** The npm entry as a page that just loaded imports it. */
export const freshEntry = () => import('../../../src/browser/index.js');

/** How many sends the queue keeps in localStorage now. */
export const keptCount = (): number => Object.keys(localStorage).filter((key) => key.startsWith(QUEUE_KEY_PREFIX)).length;

/** `Image` that fails at once, as a pixel does when the network is down (jsdom loads no images). */
export function failingImages(): void {
  vi.stubGlobal(
    'Image',
    class {
      onerror: (() => void) | null = null;
      set src(_url: string) {
        setTimeout(() => this.onerror?.(), 0);
      }
    },
  );
}

/** Resolves once `condition()` holds; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Makes each test of the file a fresh page load against `server()`: it answers hits with 200,
 * storage is empty and the entry's state gone; after the test the page goes away (pagehide: its
 * queue stops retrying and gives up its lease) and stubs are undone.
 */
export function eachTestAFreshPage(server: () => Recorder): void {
  beforeEach(() => {
    server().requests.length = 0;
    server().answer('/mtc/event', { status: 200, body: TRACKING_ANSWER });
    localStorage.clear();
    newPageLoad();
  });
  afterEach(() => {
    window.dispatchEvent(new Event('pagehide'));
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });
}
