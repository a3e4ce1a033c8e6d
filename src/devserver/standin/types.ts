/**
 * Public types of the Mautic stand-in: its options, what it records, and the changes it emits.
 * Everything a test or the dashboard reads is plain JSON-serializable data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Which origins may read responses cross-origin (docs/protocol.md §6). */
export type CorsMode = 'any' | 'restrictive' | string[];

/** Route classes used by failure injection and recorded on every request. */
export type StandinRoute = 'event' | 'pixel' | 'ids' | 'script' | 'dwc' | 'api' | 'form' | 'preflight' | 'other';

/** Route selector for `inject`: one route class, or every request. */
export type InjectRoute = 'event' | 'pixel' | 'ids' | 'script' | 'dwc' | 'api' | 'form' | 'any';

/** OAuth2 grant types a Mautic API client may be allowed. */
export type OAuthGrantType = 'client_credentials' | 'authorization_code' | 'refresh_token' | 'password';

export interface StandinApiClient {
  id: string;
  secret: string;
  /**
   * Grants this client may use. Default `['client_credentials']`. On a real Mautic an admin-made
   * client also has `authorization_code` and `refresh_token`; one made by another user has only
   * those two, and `client_credentials` then fails with `unauthorized_client` (docs/protocol.md §10.6).
   * The stand-in issues tokens for every grant but `password`.
   */
  grantTypes?: OAuthGrantType[];
  /**
   * The client's redirect URIs (Mautic: "Redirect URI", required for OAuth2 clients). An
   * authorize request's `redirect_uri` must start with one of them. Default none.
   */
  redirectUris?: string[];
  /** Shown as `createdByUser`/`modifiedByUser` of what it creates. Default `'stand-in client [1]'`. */
  name?: string;
}

export interface StandinApiOptions {
  /** Mautic's "API enabled" setting. Default true; false answers 403 `api_disabled` on /api and /oauth. */
  enabled?: boolean;
  /** OAuth2 clients. Default: none (token requests fail with invalid_client). */
  clients?: StandinApiClient[];
  /** Users accepted through HTTP Basic auth. Default: none. */
  basicUsers?: { username: string; password: string }[];
  /** Mautic's "Enable HTTP basic auth" setting. Default: true when `basicUsers` are given (off in Mautic). */
  basicAuth?: boolean;
  /** Lifetime of issued access tokens. Default 3600. */
  tokenTtlSeconds?: number;
  /** Lifetime of issued refresh tokens. Default 14 days (Mautic's). */
  refreshTokenTtlSeconds?: number;
  /** API calls allowed per token (or Basic user) per hour; off when absent or 0. */
  rateLimitPerHour?: number;
}

/**
 * One condition of a dynamic content item, as Mautic's API takes it (api_dynamiccontents_new):
 * `operator` is one of `=`, `!=`, `empty`, `!empty`, `like`, `!like`, `contains`, `startsWith`,
 * `endsWith` (others never match); `glue: 'or'` starts a new group, and an item matches when every
 * condition of any one group holds.
 */
export interface DynamicContentFilter {
  glue?: 'and' | 'or';
  /** A contact field alias (`email`, `firstname`, …), or a company field with `object: 'company'`. */
  field: string;
  object?: 'lead' | 'company';
  type?: string;
  /** The value compared against; unused by `empty`/`!empty`. */
  filter?: string | number | null;
  display?: string | null;
  operator: string;
}

/** A dynamic web content item for `GET /dwc/{slot}` (docs/protocol.md §8). */
export interface DynamicContentInput {
  name?: string;
  slotName: string;
  /** HTML; `{contactfield=alias}` and `{contactfield=alias|default}` are replaced per contact. */
  content: string;
  /** Default true. Unpublished items never show. */
  isPublished?: boolean;
  /** Campaign-based items are never served by slot. Default false. */
  isCampaignBased?: boolean;
  /** Default none: the item matches everyone, including visitors it does not recognise. */
  filters?: DynamicContentFilter[];
}

export interface StandinOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** CORS policy. Default 'any' (dev friendly); 'restrictive' is a fresh Mautic install. */
  cors?: CorsMode;
  /** Fields an admin marked "publicly updatable". Default [] like Mautic. */
  publiclyUpdatableFields?: string[];
  /** Unique identifier fields (Mautic's default: email). Used by tracking and by the REST API. */
  uniqueFields?: string[];
  /** File served at `/mtc.js`. Default: this package's own `dist/mtc.js`; 404 when it does not exist. */
  scriptFile?: string;
  /** IPs whose hits are recorded but not tracked: the response carries `id: null` (§4). */
  ignoredIps?: string[];
  /**
   * Campaign actions returned as `events` by every tracked hit, e.g.
   * `{ focus_item: [{ id: 1, js: 'https://…/focus/1.js' }] }` (§4). Default none: `[]`.
   * Lets tests prove a script never loads remote code.
   */
  trackingEvents?: Record<string, unknown[]>;
  /**
   * User-Agent substrings that are not tracked (Mautic's `do_not_track_bots`, matched
   * case-sensitively). Default: Mautic's list (`DEFAULT_BOT_USER_AGENTS`); `[]` tracks everyone.
   */
  botUserAgents?: readonly string[];
  /**
   * Mautic's "identify visitor by tracking URL" (`track_by_tracking_url`): a `ct` clickthrough
   * naming a contact makes the hit that contact's. Default false, as in Mautic: `ct` is ignored.
   */
  trackByTrackingUrl?: boolean;
  /**
   * Dynamic content items present from the start (and again after `reset()`); more can be created
   * with `POST /api/dynamiccontents/new`. Default none: every `/dwc/{slot}` answers 204.
   */
  dynamicContent?: DynamicContentInput[];
  /** Largest request body accepted, in bytes; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Oldest hits and requests are dropped beyond this many (a long-running dev server). Default 10000. */
  recordLimit?: number;
  /**
   * Which contact survives when a form post merges the tracked contact with the one its unique
   * fields found: 'tracked' (default, Mautic 5.x–7.0), 'found' (after Mautic's fix #16426),
   * 'oldest' (Mautic 4.x).
   */
  formMergeSurvivor?: 'tracked' | 'found' | 'oldest';
  /** Value of the `Mautic-Version` header of API answers. Default '5.1.0' (the recorded server). */
  mauticVersion?: string;
  /** REST side (docs/protocol.md §7). */
  api?: StandinApiOptions;
  /** Segments that exist from the start (ids 1, 2, …); more are made with `POST /api/segments/new`. */
  segments?: Array<{ name: string; alias?: string }>;
  /** Clock in epoch milliseconds; tests inject one to expire tokens without waiting. Default Date.now. */
  clock?: () => number;
  /**
   * Runs first for every request, before the stand-in reads or records it; resolves `true` when it
   * answered the request itself. The dev server serves its dashboard and its random
   * `--fail-rate`/`--latency` failures through this, on the stand-in's own port.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/** A request as it arrived, recorded before any failure injection applies. */
export interface RecordedRequest {
  seq: number;
  /** ISO time of arrival. */
  at: string;
  method: string;
  path: string;
  /** Query string including the leading '?', or ''. */
  search: string;
  route: StandinRoute;
  /** Lower-cased header names. `authorization` values are redacted to their scheme. */
  headers: Record<string, string>;
  /** Body as UTF-8 text ('' when none). `client_secret` in token requests is redacted. */
  body: string;
}

/** A custom event carried in a hit's page URL (docs/protocol.md §2: mt_category, mt_action, …). */
export interface RecordedHitEvent {
  category: string;
  action: string;
  label?: string;
  value?: string;
}

/** A tracking hit (POST /mtc/event or GET /mtracking.gif). */
export interface RecordedHit {
  /** Hit id; also the value of the `mautic_referer_id` cookie. */
  seq: number;
  at: string;
  via: 'post' | 'pixel';
  method: string;
  path: string;
  /** Raw form body of a POST (as received). */
  rawBody?: string;
  /** Raw query string of a pixel request, without '?'. */
  rawQuery?: string;
  /** Explicit parameters as received (URL query under the form body for POST). */
  params: Record<string, string>;
  /** What Mautic stores: `page_url`'s query (keys lower-cased) merged under `params`. */
  query: Record<string, string>;
  pageUrl: string | null;
  title: string | null;
  referrer: string | null;
  /** Present when the page URL carries `mt_category`/`mt_action`. */
  event?: RecordedHitEvent;
  /** Contact the hit belongs to; follows merges. `null` for ignored hits and refusals. */
  contactId: number | null;
  deviceId: string | null;
  ip: string;
  userAgent: string;
  headers: Record<string, string>;
  /**
   * 'tracked', 'ignored' (ignored IP: id null), 'bot' (a User-Agent on the bot list: id 0) or
   * 'refused' (malformed `ct`: success 0).
   */
  outcome: 'tracked' | 'ignored' | 'bot' | 'refused';
}

export interface UtmRecord {
  at: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_content?: string;
  utm_term?: string;
  url?: string;
  referer?: string;
  /** Where it came from: a tracking hit or `POST /api/contacts/{id}/utm/add`. */
  source: 'hit' | 'api';
  /** The hit's parameters (Mautic keeps them on the UTM row); absent for API rows. */
  query?: Record<string, string>;
  userAgent?: string;
  remoteHost?: string;
}

export interface DoNotContactRecord {
  channel: string;
  /** 1 unsubscribed, 2 bounced, 3 manual (Mautic's reasons). */
  reason: number;
  comments: string;
  at: string;
}

export interface Contact {
  id: number;
  createdAt: string;
  updatedAt: string;
  /** Last change after the request that created it (Mautic's `dateModified`); null until then. */
  modifiedAt: string | null;
  /** API user that created it (`createdByUser`); null when a visitor's request did. */
  createdByUser: string | null;
  /** Who changed it last: an API user, `' '` for a visitor's request (Mautic's anonymous user), null before any change. */
  modifiedByUser: string | null;
  /** When it first had an email (Mautic's `dateIdentified`). */
  identifiedAt: string | null;
  lastActive: string | null;
  /** Contact fields by alias (email, firstname, …). Empty values are absent. */
  fields: Record<string, string>;
  tags: string[];
  /** Company fields from hits (company, companyemail, companywebsite, …). */
  company: Record<string, string>;
  utm: UtmRecord[];
  deviceIds: string[];
  ipAddresses: string[];
  /** Ids of contacts merged into this one, oldest merge first. */
  mergedFrom: number[];
  points: number;
  segments: number[];
  doNotContact: DoNotContactRecord[];
  owner: number | null;
  /** How the contact was created. */
  createdBy: 'tracking' | 'api' | 'form';
}

/** Mautic's client info of a device (from its device detector); empty strings when unknown. */
export interface DeviceClientInfo {
  type: string;
  name: string;
  short_name: string;
  version: string;
  engine: string;
  engine_version: string;
  family: string;
}

/** A browser (or other client) Mautic knows for a contact: `lead_devices` (docs/protocol.md §10.9). */
export interface Device {
  /** Integer id used by `/api/devices/{id}`. */
  id: number;
  /** The `mautic_device_id` cookie value; null for devices created through the API. */
  trackingId: string | null;
  contactId: number;
  createdAt: string;
  /** null when the device was created without a User-Agent (through the API). */
  clientInfo: DeviceClientInfo | null;
  device: string | null;
  deviceBrand: string | null;
  deviceModel: string | null;
  deviceOsName: string | null;
  deviceOsShortName: string | null;
  deviceOsVersion: string | null;
  deviceOsPlatform: string | null;
}

/** One merge: `loserId` was merged into `winnerId` and deleted. */
export interface MergeRecord {
  at: string;
  winnerId: number;
  loserId: number;
  /** What caused it; today only a form post does (the REST API never merges). */
  via: 'form';
  formId: number | null;
}

/** A public form post that reached a form (`POST /form/submit`). */
export interface FormSubmissionRecord {
  seq: number;
  at: string;
  formId: number;
  formName: string;
  /** Submitted values by field alias (buttons left out). */
  results: Record<string, string>;
  /** The contact the submission ended on; null when validation failed before one was chosen. */
  contactId: number | null;
  /** The contact the browser's cookies pointed at before the post, if any. */
  trackedContactId: number | null;
  /** 'created' new contact, 'tracked' kept the tracked one, 'merged', 'switched' to a found one. */
  resolution: 'created' | 'tracked' | 'merged' | 'switched' | 'found';
  /** Field alias → message, when required fields were missing (nothing was saved). */
  validationErrors?: Record<string, string>;
}

/** What a `waitFor` predicate and `snapshot()` see. */
export interface StandinState {
  hits: RecordedHit[];
  requests: RecordedRequest[];
  contacts: Contact[];
  apiCalls: RecordedApiCall[];
  devices: Device[];
  merges: MergeRecord[];
  formSubmissions: FormSubmissionRecord[];
}

/** One authenticated REST call (identify, create, edit, …) for the dashboard. */
export interface RecordedApiCall {
  seq: number;
  at: string;
  method: string;
  path: string;
  /** e.g. 'token', 'contact.get', 'contact.new', 'contact.edit', 'contact.batch', 'segment.add'. */
  operation: string;
  status: number;
  /** Contact the call created, read or changed, when there is one. */
  contactId: number | null;
  /** Who called: 'oauth:<client id>' or 'basic:<username>' (never a secret). */
  caller: string | null;
}

/** A change the stand-in emits to `subscribe` listeners (the dashboard's server-sent events). */
export type StandinChange =
  | { type: 'request'; request: RecordedRequest }
  | { type: 'hit'; hit: RecordedHit }
  | { type: 'contact.created'; contact: Contact }
  | { type: 'contact.updated'; contact: Contact }
  | { type: 'contact.merged'; contact: Contact; mergedId: number }
  | { type: 'contact.deleted'; contactId: number }
  | { type: 'api'; call: RecordedApiCall }
  | { type: 'device'; device: Device }
  | { type: 'form.submitted'; submission: FormSubmissionRecord }
  | { type: 'reset' };

/** JSON export of everything recorded (`snapshot()`). */
export interface StandinSnapshot extends StandinState {
  version: 1;
  exportedAt: string;
  url: string;
}

export interface InjectOptions {
  /** Which requests fail. Default 'any'. Preflights (OPTIONS) are never affected. */
  route?: InjectRoute;
  /** Answer with this status instead of the real response. */
  status?: number;
  /** Body for `status` (default: a short text, or Mautic's error shape on 'api'). */
  body?: string;
  /** Wait this long before answering (then the real response, or `status`). */
  delayMs?: number;
  /** Never answer (until `close()`, which ends the connection). */
  hang?: boolean;
  /** Destroy the connection without a response: a network error for the client. */
  refuse?: boolean;
  /** How many requests it affects; default unlimited until `clearInjections()`. */
  times?: number;
}

export interface Standin {
  /** 'http://<host>:<port>'. Any Host header is accepted (tests use mautic.test). */
  readonly url: string;
  readonly port: number;
  /** Snapshots (copies) in arrival order. */
  readonly hits: RecordedHit[];
  readonly requests: RecordedRequest[];
  readonly contacts: Contact[];
  readonly apiCalls: RecordedApiCall[];
  /** Devices (browsers) by id, copies. */
  readonly devices: Device[];
  /** Contact merges, oldest first. */
  readonly merges: MergeRecord[];
  /** Public form posts that reached a form, oldest first. */
  readonly formSubmissions: FormSubmissionRecord[];
  /** One contact by id (a copy), or undefined. */
  contact(id: number): Contact | undefined;
  inject(options: InjectOptions): void;
  clearInjections(): void;
  /** Forget hits, requests, contacts, tokens, rate-limit counters and injections. */
  reset(): void;
  /** Resolves once `predicate(state)` is true (checked now and after every change). */
  waitFor(predicate: (state: StandinState) => boolean, timeoutMs?: number): Promise<void>;
  /** Called with every change; returns an unsubscribe function. Listener errors are swallowed. */
  subscribe(listener: (change: StandinChange) => void): () => void;
  /** JSON-serializable export of contacts, hits, requests and API calls. */
  snapshot(): StandinSnapshot;
  /** Stops listening and ends every connection, including hanging ones. */
  close(): Promise<void>;
}
