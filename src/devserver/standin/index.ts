/**
 * The Mautic stand-in: a local server speaking PROTOCOL.md §3–§7, for tests and the dev server.
 * It follows Mautic, not our SDK. Choices where Mautic's behaviour is not modelled in full:
 * - `ct` (clickthrough): base64 JSON `{"lead":id}` (see `encodeClickthrough`) or base64
 *   PHP-serialized arrays naming `lead`; anything else is malformed → `{"success":0}`.
 * - `GET /mtc` for a visitor it cannot recognise creates an anonymous contact and device, as
 *   Mautic's contact tracker does; ignored IPs get nulls.
 * - No IP-based contact lookup, no bot detection, no logged-in-user refusal, no PHP arrays
 *   (`a[]=1`) in form bodies, no multipart bodies.
 * - Failure injection never applies to `OPTIONS` preflights.
 * - REST: the core contact fields have Mautic's ids and flags, but any lower-case alias is accepted as a
 *   field value; segments are bare ids, `authorization_code` and `refresh_token` grants are not offered
 *   (400 `unsupported_grant_type`). The REST API never merges contacts (Mautic 5.1's unique-field
 *   validator answers 422); only a public form post does (`formMergeSurvivor`).
 * - Forms: only `lead.changetags` and `lead.pointschange` actions are applied; field values are not
 *   validated beyond "required"; no captcha, no kiosk mode, no company mapping.
 * - Devices: client info is read roughly from the User-Agent of the first hit (common browsers only).
 * - `reset()` starts contact ids at 1 again.
 */
export { startStandin } from './server.js';
export { encodeClickthrough } from './clickthrough.js';
export { TRACKING_PIXEL_GIF } from './tracking.js';
export { COMPANY_FIELDS, UTM_KEYS } from './contact-store.js';
export type {
  Contact,
  CorsMode,
  Device,
  DeviceClientInfo,
  FormSubmissionRecord,
  MergeRecord,
  DoNotContactRecord,
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
