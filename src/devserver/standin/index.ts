/**
 * The Mautic stand-in: a local server speaking docs/protocol.md §3–§8, for tests and the dev server.
 * It follows Mautic 5.1 as recorded from a real server (docs/protocol.md §10), not our SDK. On the
 * tracking side it models:
 * - CORS: 204 `text/html` preflights with Mautic's fixed allow lists (only for an allowed origin
 *   that sends `Access-Control-Request-Headers`); other requests with `X-Requested-With` get the
 *   same headers and `Access-Control-Allow-Origin` = the origin, or `''` when it is refused or
 *   absent. A refused origin is still tracked.
 * - Cookies: `mautic_device_id` (1 year) + `mtc_id` (session) only when the visitor gets a new
 *   device (new visitor, or a switch to another contact), `mautic_referer_id` (30 min) on every
 *   tracked hit; PHP's attribute spelling (`path=/; secure; samesite=none`).
 * - The device cookie wins over the `mautic_device_id` parameter even when unknown; the legacy
 *   `mautic_session_id` cookie pair claims a contact that has no device yet.
 * - Bots (`botUserAgents`, Mautic's `do_not_track_bots` list by default, case-sensitive substring):
 *   not tracked, id 0, no cookies; the hit is recorded with outcome 'bot'.
 * - `ct` identifies a contact only with `trackByTrackingUrl` (off by default, as in Mautic); a
 *   malformed `ct` (neither base64 JSON `{"lead":id}` nor a base64 PHP-serialized array) is
 *   answered `{"success":0}` either way.
 * - `/dwc/{slot}`: items from `dynamicContent` or `POST /api/dynamiccontents/new`, filters on
 *   contact fields (`=`, `!=`, `empty`, `!empty`, `like`, `contains`, …), `{contactfield=…}` tokens.
 * - `GET /mtc` for a visitor it cannot recognise creates an anonymous contact and device, as
 *   Mautic's contact tracker does. Ignored IPs get nulls on every endpoint.
 * Choices where Mautic is not modelled in full:
 * - `/dwc` never creates a contact (an unrecognised visitor matches only items without filters,
 *   answered with null ids); items made through the API have their HTML tags stripped, as
 *   recorded, preloaded ones are kept as given.
 * - With `trackByTrackingUrl`, `ct` switches to its contact even when that contact has no email
 *   (Mautic finds it through the email); bots are not filtered on `/dwc`.
 * - Bot filtering uses the list only (no device detector); Mautic 5.1's exact 5.x additions to it
 *   could not be read, see bots.ts.
 * - No IP-based contact lookup, no logged-in-user refusal, no PHP arrays (`a[]=1`) in form bodies,
 *   no multipart bodies.
 * - Failure injection never applies to `OPTIONS` preflights.
 * - REST: no field schema (any lower-case alias is a field), segments are bare ids, `authorization_code`
 *   and `refresh_token` grants are not offered (400 `unsupported_grant_type`).
 * - `reset()` starts contact and dynamic content ids at 1 again (keeping preloaded items).
 */
export { startStandin } from './server.js';
export { encodeClickthrough } from './clickthrough.js';
export { TRACKING_PIXEL_GIF } from './tracking.js';
export { COMPANY_FIELDS, UTM_KEYS } from './contact-store.js';
export { DEFAULT_BOT_USER_AGENTS } from './bots.js';
export { LEGACY_SESSION_COOKIE } from './visitor.js';
export type {
  Contact,
  CorsMode,
  DoNotContactRecord,
  DynamicContentFilter,
  DynamicContentInput,
  InjectOptions,
  InjectRoute,
  RecordedApiCall,
  RecordedHit,
  RecordedHitEvent,
  RecordedRequest,
  Standin,
  StandinApiOptions,
  StandinChange,
  StandinOptions,
  StandinRoute,
  StandinSnapshot,
  StandinState,
  UtmRecord,
} from './types.js';
