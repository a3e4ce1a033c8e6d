/**
 * One tracker state per page and Mautic base URL, however many times a tracker is made: React's
 * StrictMode runs effects twice, HMR re-runs modules, two components or two bundles each make
 * one. Each would otherwise have its own first-send gate, so a new visitor's first two hits would
 * race and become two contacts.
 *
 * The states live in one non-enumerable, symbol-keyed slot of `window` (invisible to
 * `Object.keys(window)` and to `for…in`), shared by every copy of this code on the page.
 */
import { createCore, type TrackerCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

const SLOT = Symbol.for('mautic-tracker.cores');

export interface PageState {
  core: TrackerCore;
  /**
   * Hands `send` to the core after every send called before it was, so sends keep call order; with
   * `afterRender`, only once the code running now is done, so that a pageview called from a
   * framework effect reads the title a later effect of the same render sets (React runs a
   * component's effects before its later siblings'; StrictMode then runs them all again).
   */
  inOrder<T>(send: () => T | Promise<T>, afterRender?: boolean): Promise<T>;
}

/**
 * After the code running now: a framework runs all effects of one render (and StrictMode's
 * second run of them) in one go, so by then the title a later effect sets is in place. Only a
 * microtask, so a send handed over this way is in the core before any event (pagehide) can come.
 */
const rendered = (): Promise<void> => Promise.resolve();

/**
 * The page's state for `config._url` (made with `config` the first time; later configs for the
 * same URL share it, so its first config's timeout and debug setting apply).
 *
 * @example const { core, inOrder } = pageState({ _url: 'https://www.example.com/mt', _timeout: 5000, _debug: false });
 */
export const pageState = (config: TrackerConfig): PageState => {
  const host = window as unknown as { [SLOT]?: Map<string, PageState> };
  // Configurable, so that a test (a "new page") can remove it.
  if (!host[SLOT]) Object.defineProperty(host, SLOT, { value: new Map(), configurable: true });
  const states = host[SLOT]!;
  // `/mt`, `https://site.example/mt` and `…/mt/` are the same Mautic for the same page.
  let key = config._url;
  try {
    key = new URL(config._url, location.href).href.replace(/\/+$/, '');
  } catch {
    // Not a URL: its own key, as given.
  }
  let state = states.get(key);
  if (!state) {
    let queue: Promise<unknown> = Promise.resolve();
    state = {
      core: createCore(config),
      inOrder(send, afterRender) {
        // Boxed, so that the queue moves on once the send was handed to the core, not once it settled.
        const started = queue.then(() => (afterRender ? rendered() : undefined)).then(() => ({ result: send() }));
        queue = started.then(
          () => undefined,
          () => undefined,
        );
        return started.then((box) => box.result);
      },
    };
    states.set(key, state);
  }
  return state;
};
