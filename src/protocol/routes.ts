/**
 * The route contract: the paths a tracking base URL answers, relative to it — Mautic itself, or
 * our proxy at `{site}{basePath}`, which answers the same four plus `identify` (docs/protocol.md
 * §13). The one place routes are named: the browser SDK sends to them, the proxy serves them
 * (and may rename them, `paths`), the stand-in answers Mautic's four.
 *
 * Nothing here touches `window`, `document` or any `node:*` module, so every runtime can import it.
 */

export const TRACKER_ROUTES = {
  /** The tracking script itself (`GET`, `HEAD`). */
  script: '/mtc.js',
  /** `POST` a hit, form-encoded; answers JSON (docs/protocol.md §3–§4). */
  event: '/mtc/event',
  /** `GET` a hit as a query string; answers a 1×1 GIF (docs/protocol.md §3, fallback). */
  pixel: '/mtracking.gif',
  /** `GET` the visitor's ids after a pixel hit (docs/protocol.md §3, fallback). */
  contactIds: '/mtc',
  /** `POST` JSON `{ email, fields?, token? }`: our proxy's verified identification (Mautic has no such route). */
  identify: '/identify',
} as const;

export type RouteName = keyof typeof TRACKER_ROUTES;

/** Where each route lives under a base URL (the proxy's `paths`). */
export type RoutePaths = { [R in RouteName]: string };

/** The routes the SDK sends to (all but the script), which a page may have renamed. */
export type SendRouteName = Exclude<RouteName, 'script'>;

/** Paths a Mautic server answers, relative to its base URL: every route but our `identify`. */
export const MAUTIC_PATHS: Readonly<Omit<typeof TRACKER_ROUTES, 'identify'>> = TRACKER_ROUTES;

/** Allowed methods per route; everything else is 405 with `Allow`. */
export const ROUTE_METHODS: Readonly<Record<RouteName, readonly string[]>> = {
  script: ['GET', 'HEAD'],
  event: ['POST'],
  pixel: ['GET'],
  contactIds: ['GET'],
  identify: ['POST'],
};
