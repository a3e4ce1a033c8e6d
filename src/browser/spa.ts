/**
 * Automatic pageviews for single-page apps: one hit per distinct URL after `history.pushState`,
 * `history.replaceState` or `popstate`, sent once the route change rendered so the new page's
 * title is used.
 */

type HistoryMethod = 'pushState' | 'replaceState';

/**
 * Calls `onRoute(url)` once per distinct `location.href` after route changes. The current URL
 * counts as seen (its pageview is the page's own). The check waits for the next animation frame
 * and then a macrotask, because frameworks set `document.title` in effects that run after the
 * history call; in a hidden tab (no frames) it waits for a macrotask only.
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
  const check = () => {
    const url = location.href;
    if (active && url != seen) {
      seen = url;
      onRoute(url);
    }
  };
  const schedule = () => {
    if (active) {
      if (document.visibilityState == 'visible' && typeof requestAnimationFrame == 'function') {
        requestAnimationFrame(() => setTimeout(check));
      } else setTimeout(check);
    }
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
    removeEventListener('popstate', schedule);
    restores.forEach((restore) => restore());
  };
};
