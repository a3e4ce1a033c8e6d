/**
 * One tracker state per page and Mautic base URL, however many times a tracker is made: React's
 * StrictMode runs effects twice, HMR re-runs modules, two components or two bundles each make
 * one, and the npm module may sit beside the script tag. Each would otherwise have its own
 * first-send gate, so a new visitor's first two hits would race and become two contacts.
 *
 * The states live in two symbol-keyed slots of `window` (never listed by `Object.keys(window)`
 * or `for…in`), shared by every copy of this code on the page, dist/mtc.js included: so the core's
 * methods keep their names there (tracker.ts).
 */
import { createCore, type TrackerCore } from './tracker.js';
import type { TrackerConfig } from './types.js';

const CORES = Symbol.for('mautic-tracker.cores');
const QUEUES = Symbol.for('mautic-tracker.queues');

type Slots = { [CORES]?: Record<string, TrackerCore>; [QUEUES]?: WeakMap<TrackerCore, InOrder> };

/**
 * Hands `send` to the core after every send called before it was, so sends keep call order; with
 * `afterRender`, only once the code running now is done, so that a pageview called from a
 * framework effect reads the title a later effect of the same render sets (React runs a
 * component's effects before its later siblings'; StrictMode then runs them all again).
 */
export type InOrder = <T>(send: () => T | Promise<T>, afterRender?: boolean) => Promise<T>;

export interface PageState {
  core: TrackerCore;
  inOrder: InOrder;
}

/**
 * The page's core for the base URL `key` (an absolute URL without a trailing slash: the script
 * tag's own folder is one already), made with `config` the first time; later trackers for the
 * same URL, the script tag's and the npm entry's alike, share it, so the first one's timeout and
 * debug setting apply. Symbol-keyed properties are never listed by `Object.keys` or `for…in`, so
 * the slot adds no global name; its keys are URLs, never a name `Object.prototype` has.
 *
 * @example const core = sharedCore(config, 'https://www.example.com/mt');
 */
export const sharedCore = (config: TrackerConfig, key: string): TrackerCore =>
  ((window as unknown as Slots)[CORES] ||= {})[key] ||= createCore(config);

/**
 * The page's state for `config._url` (the npm entry): `/mt`, `https://site.example/mt` and
 * `…/mt/` name the same Mautic for the same page.
 *
 * @example const { core, inOrder } = pageState({ _url: 'https://www.example.com/mt', _timeout: 5000, _debug: false });
 */
export const pageState = (config: TrackerConfig): PageState => {
  let key = config._url;
  try {
    key = new URL(config._url, location.href).href.replace(/\/+$/, '');
  } catch {
    // Not a URL: its own key, as given.
  }
  const core = sharedCore(config, key);
  const queues = ((window as unknown as Slots)[QUEUES] ||= new WeakMap());
  let inOrder = queues.get(core);
  if (!inOrder) {
    let queue: Promise<unknown> = Promise.resolve();
    inOrder = (send, afterRender) => {
      // Boxed, so that the queue moves on once the send was handed to the core, not once it settled.
      // "After render" is one microtask: a framework runs all effects of a render in one go.
      const started = queue.then(() => (afterRender ? Promise.resolve() : undefined)).then(() => ({ result: send() }));
      queue = started.then(
        () => undefined,
        () => undefined,
      );
      return started.then((box) => box.result);
    };
    queues.set(core, inOrder);
  }
  return { core, inOrder };
};
