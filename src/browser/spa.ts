/**
 * Automatic pageviews for single-page apps: one hit per distinct URL after `history.pushState`,
 * `history.replaceState` or `popstate`, sent once the new page's title has settled.
 */

type HistoryMethod = 'pushState' | 'replaceState';

/**
 * How long the title may stay unchanged after a route change before the current one is taken as
 * the new page's (a route that keeps the title). Frameworks set it in an effect or through
 * metadata a few frames after the history call (React Router, Next.js, Vue Router, Nuxt).
 */
export const TITLE_QUIET_MS = 300;
/** After the title changed, further changes within this time still belong to the same navigation. */
export const TITLE_SETTLE_MS = 50;
/** The longest a route pageview waits for its title. */
export const TITLE_MAX_WAIT_MS = 2000;

/**
 * Calls `onRoute(url)` once per distinct `location.href` after route changes, when the title has
 * settled: changed (and stayed so for `TITLE_SETTLE_MS`), or unchanged for `TITLE_QUIET_MS`, and
 * in any case within `TITLE_MAX_WAIT_MS`. An empty title is waited for, up to that bound, since
 * a title follows. The current URL counts as seen (its pageview is the page's own). Route changes
 * during the wait restart it: only where the app ends up counts.
 *
 * Returns a function that stops it and restores `history` (unless another script wrapped the
 * methods after us: then our wrappers stay in place as pass-throughs, so theirs keep working).
 *
 * @example const stop = watchRoutes((url) => tracker.pageview()); … stop();
 */
export const watchRoutes = (onRoute: (url: string) => void): (() => void) => {
  const history = window.history;
  let active = true;
  let seen = location.href;
  let titleBefore = document.title;
  let startedAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let observer: MutationObserver | undefined;

  const finish = (): void => {
    clearTimeout(timer);
    observer?.disconnect();
    observer = undefined;
    timer = undefined;
    const url = location.href;
    if (active && url != seen) {
      seen = url;
      onRoute(url);
    }
    titleBefore = document.title;
  };

  /** Runs after each title change: (re)arms the wait for the title to settle. */
  const check = (): void => {
    clearTimeout(timer);
    const left = TITLE_MAX_WAIT_MS - (Date.now() - startedAt);
    if (left <= 0) return finish();
    const title = document.title;
    // An empty title waits for the one that follows (each change calls `check` again).
    const wait = title === '' ? left : Math.min(title != titleBefore ? TITLE_SETTLE_MS : TITLE_QUIET_MS, left);
    timer = setTimeout(finish, wait);
  };

  const schedule = (): void => {
    if (!active || location.href == seen) return;
    if (timer === undefined) startedAt = Date.now();
    if (!observer && typeof MutationObserver == 'function') {
      // The <title> element's text, or a new <title> element (Next.js and Nuxt swap it).
      observer = new MutationObserver(check);
      observer.observe(document.head || document.documentElement, { subtree: true, childList: true, characterData: true });
    }
    check();
  };

  const wrap = (name: HistoryMethod) => {
    const original = history[name];
    const wrapper = function (this: History, ...args: Parameters<History[HistoryMethod]>) {
      const result = original.apply(this, args);
      schedule();
      return result;
    };
    history[name] = wrapper;
    return () => {
      if (history[name] == wrapper) history[name] = original;
    };
  };
  const restores = [wrap('pushState'), wrap('replaceState')];
  addEventListener('popstate', schedule);
  return () => {
    active = false;
    clearTimeout(timer);
    observer?.disconnect();
    removeEventListener('popstate', schedule);
    restores.forEach((restore) => restore());
  };
};
