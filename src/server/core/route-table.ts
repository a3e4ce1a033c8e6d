/**
 * Maps a request path onto the fixed route allowlist. No pattern matching, no prefix matching:
 * a path is either exactly one of the configured routes or it is not ours.
 */
import type { RouteName, RoutePaths } from '../../protocol/routes.js';

export type RouteMatch =
  | { kind: 'route'; route: RouteName }
  | { kind: 'outside' }
  | { kind: 'unknown' }
  | { kind: 'rejected'; status: 400 | 414 };

/**
 * Rejects request targets that use path tricks: encoded slashes, backslashes, encoded or raw
 * dot segments, NUL, empty segments. Adapters call it on the raw target, before a `URL`
 * normalizes dot segments away; the core calls it again on the parsed path.
 */
export function hasPathTrick(rawPathAndQuery: string): boolean {
  const q = rawPathAndQuery.indexOf('?');
  const path = q < 0 ? rawPathAndQuery : rawPathAndQuery.slice(0, q);
  if (!path.startsWith('/')) return true;
  if (/%(2f|5c|2e|00)/i.test(path)) return true;
  if (path.includes('\\') || path.includes('//')) return true;
  // A `.` or `..` segment follows a slash: most paths have no `/.` and need no split.
  return path.includes('/.') && path.split('/').some((seg) => seg === '.' || seg === '..');
}

export class RouteTable {
  private readonly byPath = new Map<string, RouteName>();

  constructor(
    readonly basePath: string,
    paths: RoutePaths,
    private readonly maxUrlLength: number,
  ) {
    for (const [name, path] of Object.entries(paths)) this.byPath.set(path, name as RouteName);
  }

  /**
   * True when `pathname` lies under the base path (adapters pass other requests on). Mounted at
   * the root, only the exact routes are ours, so the rest of the site keeps working.
   */
  owns(pathname: string): boolean {
    if (this.basePath === '') return this.byPath.has(pathname);
    return pathname === this.basePath || pathname.startsWith(this.basePath + '/');
  }

  match(url: URL): RouteMatch {
    if (url.pathname.length + url.search.length > this.maxUrlLength) return { kind: 'rejected', status: 414 };
    if (hasPathTrick(url.pathname)) return { kind: 'rejected', status: 400 };
    if (!this.owns(url.pathname)) return { kind: 'outside' };
    const rest = url.pathname.slice(this.basePath.length);
    const route = this.byPath.get(rest);
    return route ? { kind: 'route', route } : { kind: 'unknown' };
  }
}
