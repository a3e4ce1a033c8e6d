/**
 * The proxy's route renames, carried into the SDK script it serves. `dist/mtc.js` sends to the
 * default routes, relative to its own folder (`{base}/mtc/event` next to `{base}/mtc.js`); with
 * `paths` renamed, the served copy has each default route's string literal replaced by the
 * renamed route, so the script needs no setting and gains no global or byte. Each default route
 * literal appears exactly once in dist/mtc.js (test/server/script-routes.test.ts holds every
 * build to that); a script where one does not (not our build, or a build that changed) is refused
 * at start-up rather than served to fail every hit.
 */
import { TRACKER_ROUTES, type RoutePaths, type SendRouteName } from '../../protocol/routes.js';
import { SCRIPT_VIA_MAUTIC, SCRIPT_VIA_PROXY } from '../../protocol/wire.js';

const SENT_ROUTES: readonly SendRouteName[] = ['event', 'pixel', 'contactIds', 'identify'];

/** A route's default as a string literal in the minified script: quoted, ending at its quote or a query. */
export function routeLiteralPattern(route: SendRouteName): RegExp {
  return new RegExp(`(["'\`])${TRACKER_ROUTES[route].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?=[?"'\`])`, 'g');
}

/**
 * Where each route is as seen from the script's folder. The script finds its base by dropping
 * the last segment of its own URL, so a script renamed into a subfolder (`/js/t.js`) reaches
 * the routes with one `..` per extra folder (`/../e`), which the URL parser resolves before any
 * request is sent.
 */
function scriptRelativePaths(paths: RoutePaths): Record<SendRouteName, string> {
  const depth = paths.script.split('/').length - 2;
  const up = '/..'.repeat(Math.max(0, depth));
  return { event: up + paths.event, pixel: up + paths.pixel, contactIds: up + paths.contactIds, identify: up + paths.identify };
}

export type RoutedScript = { ok: true; script: Uint8Array<ArrayBuffer> } | { ok: false; route: SendRouteName };

/** `script` sending to `paths` (the same bytes when they are the defaults), or the route it cannot carry. */
export function routedScript(script: Uint8Array<ArrayBuffer>, paths: RoutePaths): RoutedScript {
  const wanted = scriptRelativePaths(paths);
  const renamed = SENT_ROUTES.filter((route) => wanted[route] !== TRACKER_ROUTES[route]);
  if (renamed.length === 0) return { ok: true, script };
  let text = new TextDecoder().decode(script);
  for (const route of renamed) {
    const pattern = routeLiteralPattern(route);
    if ((text.match(pattern) ?? []).length !== 1) return { ok: false, route };
    // Paths are validated (letters, digits, . _ ~ - and /): nothing in them can end the literal.
    text = text.replace(pattern, (_match, quote: string) => quote + wanted[route]);
  }
  return { ok: true, script: new TextEncoder().encode(text) };
}

/**
 * `script` told that it is served by our proxy: dist/mtc.durable.js carries the quoted mark
 * `SCRIPT_VIA_MAUTIC` once, which becomes `SCRIPT_VIA_PROXY`, so its hits carry `mt_hit_id` and any
 * failed send may be retried (the proxy deduplicates them). A script without the mark (dist/mtc.js,
 * which has no queue) is returned as it is, the same bytes.
 */
export function proxiedScript(script: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const pattern = new RegExp(`(["'\`])${SCRIPT_VIA_MAUTIC}\\1`, 'g');
  const text = new TextDecoder().decode(script);
  if ((text.match(pattern) ?? []).length !== 1) return script;
  return new TextEncoder().encode(text.replace(pattern, (_match, quote: string) => quote + SCRIPT_VIA_PROXY + quote));
}
