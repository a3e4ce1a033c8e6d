/**
 * A typed client for Mautic's REST API: contacts and what identification leads to (tags,
 * segments, points, Do-Not-Contact, UTM, devices), plus the field and form calls setup needs
 * (docs/protocol.md §7, §10). Web-standard only (fetch, AbortController), so it runs wherever
 * the proxy runs. Shapes follow the answers of a real Mautic 5.1 (`mautic-5.1-exchanges/`).
 *
 * Deadlines: `timeoutMs` per attempt, `callTimeoutMs` per call (attempts, backoff and token
 * request together), and `bounded(signal)` / `withDeadline(ms)` for a whole operation.
 * Retry policy: a 401 on a token re-fetches the token once and retries (the request was rejected
 * before it did anything). Timeouts, network errors, 5xx and 429 are retried with backoff only
 * for GET, and only when the retry can finish within the deadline; a write is never repeated,
 * so nothing is created, counted or merged twice.
 */
import { BATCH_LIMIT, REST_PATHS, type ContactEnvelope, type MauticContact } from '../../protocol/rest.js';
import type { AuthProvider } from './auth.js';
import { MauticApiError, MauticAuthError, MauticRateLimitError, MauticTimeoutError } from './errors.js';
import { errorOfAnswer, exchange, jsonOf, mauticVersionOf, type CallSite } from './http-call.js';
import {
  isRecord,
  listEntries,
  toBatchResults,
  toContact,
  toCount,
  toDevice,
  toField,
  toForm,
  toId,
  type BatchItemResult,
  type MauticDevice,
  type MauticDeviceStat,
  type MauticField,
  type MauticForm,
  type MauticFormField,
} from './shapes.js';

export type { BatchItemResult, MauticDevice, MauticDeviceStat, MauticField, MauticForm, MauticFormField } from './shapes.js';

export interface MauticRestClientOptions {
  /** Mautic's base URL, e.g. `https://mautic.example.com`. */
  baseUrl: string;
  auth: AuthProvider;
  fetch?: typeof fetch;
  /** Per attempt. Default 10000 ms. */
  timeoutMs?: number;
  /** Per call, all attempts, backoff and the token request included. Default 3 × `timeoutMs`. */
  callTimeoutMs?: number;
  /** Extra attempts for GET. Default 2. */
  retries?: number;
  /** First backoff delay; doubles each attempt. Default 250 ms. */
  backoffMs?: number;
  /** Longest wait for a rate-limit reset before giving up. Default 5000 ms. */
  maxRateLimitWaitMs?: number;
}

export type ContactFields = Record<string, string | number | boolean | null>;

export interface UtmTags {
  utm_campaign?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_content?: string;
  utm_term?: string;
  useragent?: string;
  url?: string;
  referer?: string;
  query?: Record<string, string>;
  remotehost?: string;
  lastActive?: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** REST paths beyond the shared protocol's (identification's device and setup calls). */
const PATHS = {
  ...REST_PATHS,
  leadDeviceStats: '/api/stats/lead_devices',
  devices: '/api/devices',
  contactFields: '/api/fields/contact',
  forms: '/api/forms',
} as const;

export interface NewContactField {
  label: string;
  alias: string;
  type: 'text';
  isUniqueIdentifier?: boolean;
  isPublished?: boolean;
  isPubliclyUpdatable?: boolean;
  isVisible?: boolean;
  isListable?: boolean;
  isShortVisible?: boolean;
}

export interface NewForm {
  name: string;
  alias: string;
  formType: 'standalone' | 'campaign';
  isPublished: boolean;
  postAction: 'message' | 'return' | 'redirect';
  postActionProperty?: string;
  description?: string;
  fields: Array<Omit<MauticFormField, 'id'> & { label: string; isRequired?: boolean; showLabel?: boolean }>;
}

/** Search results: `total` is a string in Mautic's answers and contacts are keyed by id. */
export interface ContactList {
  /** All matches, not just this page (parsed from Mautic's string). */
  total: number;
  contacts: MauticContact[];
}

export interface ContactListOptions {
  /** Mautic's search syntax: `email:jane@example.com`, `tag:vip`, `segment:newsletter`, `!is:anonymous`, free text… */
  search?: string;
  /** Offset. Default 0. */
  start?: number;
  /** Page size, 1..200. Default 30 (Mautic's). */
  limit?: number;
  /** A contact column (`id`, `email`, `date_added`, `last_active`…). Default `id`. */
  orderBy?: string;
  orderByDir?: 'asc' | 'desc';
  /** Leave out the answer's lists of ip addresses, UTM rows, tags… Default true. */
  minimal?: boolean;
}

/** Mautic's point operators (`/points/{operator}/{delta}`). */
export type PointsOperator = 'plus' | 'minus' | 'times' | 'divide';

/** A contact edit in a batch: the id and the fields to set. */
export type BatchContactEdit = ContactFields & { id: number };

/** Longest search we send: a whole email plus Mautic's `email:` command. */
const MAX_SEARCH_LENGTH = 300;
/** Contact column names in `orderBy`. */
const COLUMN = /^[a-z][a-z0-9_]{0,63}$/;
/** A tag Mautic keeps as it is: no comma (it splits on them), no leading `-` (that removes). */
const TAG = /^[^,\s-][^,]{0,99}$/;

const sleep = (ms: number, signal: AbortSignal | null): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms) as unknown as { unref?: () => void };
    t.unref?.();
    function done(): void {
      signal?.removeEventListener('abort', done);
      clearTimeout(t as unknown as ReturnType<typeof setTimeout>);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Mautic-Version as last seen, shared by a client and its bounded views. */
interface SeenState {
  mauticVersion: string | null;
}

/**
 * @example
 * const client = new MauticRestClient({
 *   baseUrl: 'https://mautic.example.com',
 *   auth: new OAuth2ClientCredentials({ baseUrl: 'https://mautic.example.com', clientId, clientSecret }),
 * });
 * const { contact, created } = await client.createOrUpdateContact({ email: 'jane@example.com' });
 */
export class MauticRestClient {
  private readonly fetchImpl: typeof fetch;
  private readonly baseUrl: string;
  private readonly signal: AbortSignal | null;
  private readonly seen: SeenState;

  constructor(options: MauticRestClientOptions);
  /** @internal a bounded view, see `bounded()` */
  constructor(options: MauticRestClientOptions, view: { signal: AbortSignal; seen: SeenState });
  constructor(
    private readonly options: MauticRestClientOptions,
    view?: { signal: AbortSignal; seen: SeenState },
  ) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.signal = view?.signal ?? null;
    this.seen = view?.seen ?? { mauticVersion: null };
  }

  /**
   * The same client whose every call (token request, attempts, retries, backoff) ends when
   * `signal` aborts, with a `MauticTimeoutError`: one deadline for a whole operation.
   */
  bounded(signal: AbortSignal): MauticRestClient {
    return new MauticRestClient(this.options, { signal, seen: this.seen });
  }

  /** The same client with one deadline of `ms` for everything called through it. */
  withDeadline(ms: number): MauticRestClient {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError('a deadline is a positive number of milliseconds');
    return this.bounded(AbortSignal.timeout(ms));
  }

  /** The `Mautic-Version` header of the latest API answer that had one (API controllers only; null before). */
  get mauticVersion(): string | null {
    return this.seen.mauticVersion;
  }

  /** The major version from `mauticVersion` (4, 5, 7…), or null while unknown. */
  get mauticMajorVersion(): number | null {
    const match = /^(\d{1,3})\./.exec(this.seen.mauticVersion ?? '');
    return match ? Number(match[1]) : null;
  }

  // ---- contacts ----

  /** `GET /api/contacts/{id}`. A merged-away id answers with the contact it was merged into. */
  async getContact(id: number): Promise<MauticContact> {
    const path = `${REST_PATHS.contacts}/${positiveId(id)}`;
    const { body } = await this.request<ContactEnvelope>('GET', path);
    return requireContact(body, 'GET', path);
  }

  /**
   * `GET /api/contacts` with Mautic's search syntax and paging. Mautic answers `total` as a
   * string and the page as an object keyed by id (which JSON readers reorder by id), so the page
   * is sorted here again by `orderBy`.
   */
  async listContacts(options: ContactListOptions = {}): Promise<ContactList> {
    const { search, start = 0, limit = 30, orderBy = 'id', orderByDir = 'asc', minimal = true } = options;
    if (search !== undefined && (search.length === 0 || search.length > MAX_SEARCH_LENGTH)) throw new RangeError('search must be 1..300 characters');
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError('start must be a non-negative integer');
    if (!Number.isInteger(limit) || limit < 1 || limit > BATCH_LIMIT) throw new RangeError('limit must be 1..200');
    if (!COLUMN.test(orderBy)) throw new RangeError('orderBy must be a contact column like id or date_added');
    if (orderByDir !== 'asc' && orderByDir !== 'desc') throw new RangeError("orderByDir must be 'asc' or 'desc'");
    const query = new URLSearchParams();
    if (search !== undefined) query.set('search', search);
    query.set('start', String(start));
    query.set('limit', String(limit));
    query.set('orderBy', orderBy);
    query.set('orderByDir', orderByDir);
    if (minimal) query.set('minimal', '1');
    const { body } = await this.request<unknown>('GET', `${REST_PATHS.contacts}?${query.toString()}`);
    const record = isRecord(body) ? body : {};
    const contacts = listEntries(record.contacts).map(toContact).filter((c): c is MauticContact => c !== null);
    sortContacts(contacts, orderBy, orderByDir);
    return { total: toCount(record.total, contacts.length), contacts };
  }

  /** `listContacts({ search, limit, orderBy: 'id' })`, ascending by id. */
  searchContacts(search: string, options: { limit?: number } = {}): Promise<ContactList> {
    return this.listContacts({ search, limit: options.limit ?? 30, orderBy: 'id', orderByDir: 'asc' });
  }

  /**
   * Contacts whose email is exactly `email` (case-insensitive), ascending by id. Mautic's
   * `email:` search is a LIKE (`_` matches any character), so matches are checked here again.
   */
  async findContactsByEmail(email: string): Promise<MauticContact[]> {
    const wanted = email.trim().toLowerCase();
    const { contacts } = await this.searchContacts(`email:${wanted}`);
    return contacts.filter((c) => {
      const value = c.fields?.all?.email;
      return typeof value === 'string' && value.trim().toLowerCase() === wanted;
    });
  }

  /**
   * `POST /api/contacts/new`. Mautic's upsert rule: the one contact whose unique fields (email)
   * match is updated (200, `created: false`); none: a new contact (201); two or more share the
   * email: 422 `MauticValidationError` and nothing changes.
   */
  async createOrUpdateContact(fields: ContactFields): Promise<{ contact: MauticContact; created: boolean }> {
    const { status, body } = await this.request<ContactEnvelope>('POST', REST_PATHS.contactNew, fields);
    return { contact: requireContact(body, 'POST', REST_PATHS.contactNew), created: status === 201 };
  }

  /**
   * `PATCH /api/contacts/{id}/edit`: sets the given fields, keeps the others. Mautic 5 never
   * merges here: a unique field (email) another contact has is refused with 422
   * (`MauticValidationError`, `details.email`).
   */
  async editContact(id: number, fields: ContactFields): Promise<MauticContact> {
    const path = `${REST_PATHS.contacts}/${positiveId(id)}/edit`;
    const { body } = await this.request<ContactEnvelope>('PATCH', path, fields);
    return requireContact(body, 'PATCH', path);
  }

  /**
   * `PUT /api/contacts/{id}/edit`: replaces the contact (fields not given are emptied). On an
   * unknown id Mautic creates a contact with a **new** id (201, `created: true`).
   */
  async replaceContact(id: number, fields: ContactFields): Promise<{ contact: MauticContact; created: boolean }> {
    const path = `${REST_PATHS.contacts}/${positiveId(id)}/edit`;
    const { status, body } = await this.request<ContactEnvelope>('PUT', path, fields);
    return { contact: requireContact(body, 'PUT', path), created: status === 201 };
  }

  /** `DELETE /api/contacts/{id}/delete`. An unknown id is `MauticNotFoundError`. */
  async deleteContact(id: number): Promise<void> {
    await this.request('DELETE', `${REST_PATHS.contacts}/${positiveId(id)}/delete`);
  }

  /**
   * `POST /api/contacts/batch/new` (≤ 200 items), each with the upsert rule of
   * `createOrUpdateContact`. One result per item, in order: a bad item fails alone.
   */
  async batchCreateContacts(items: ContactFields[]): Promise<BatchItemResult[]> {
    checkBatch(items);
    return this.batch('POST', REST_PATHS.contactsBatchNew, items);
  }

  /** `PATCH` (or with `replace`, `PUT`) `/api/contacts/batch/edit` (≤ 200 items, each with its `id`). */
  async batchEditContacts(items: BatchContactEdit[], options: { replace?: boolean } = {}): Promise<BatchItemResult[]> {
    checkBatch(items);
    for (const item of items) positiveId(item.id);
    return this.batch(options.replace ? 'PUT' : 'PATCH', `${REST_PATHS.contacts}/batch/edit`, items);
  }

  /** Adds tags (`PATCH …/edit {"tags": [...]}`); Mautic creates unknown tags. */
  async addTags(id: number, tags: string[]): Promise<MauticContact> {
    return this.editContact(id, { tags: checkTags(tags) } as unknown as ContactFields);
  }

  /** Removes tags (`PATCH …/edit {"tags": ["-name", …]}`: Mautic's minus prefix). */
  async removeTags(id: number, tags: string[]): Promise<MauticContact> {
    return this.editContact(id, { tags: checkTags(tags).map((t) => `-${t}`) } as unknown as ContactFields);
  }

  /** `GET /api/contacts/{id}/devices`: the contact's tracked devices (no tracking ids here). */
  async listContactDevices(id: number): Promise<MauticDevice[]> {
    const { body } = await this.request<unknown>('GET', `${REST_PATHS.contacts}/${positiveId(id)}/devices`);
    return devicesOf(body).map((d) => ({ ...d, contactId: d.contactId ?? id }));
  }

  // ---- what identification leads to ----

  /** `POST /api/contacts/{id}/utm/add`: one UTM row on the contact's timeline. */
  async addUtmTags(id: number, utm: UtmTags): Promise<void> {
    await this.request('POST', `${REST_PATHS.contacts}/${positiveId(id)}/utm/add`, utm);
  }

  /** `POST /api/segments/{segmentId}/contact/{contactId}/add`. Unknown segment or contact: `MauticNotFoundError`. Adding twice is fine. */
  async addToSegment(segmentId: number, id: number): Promise<void> {
    await this.request('POST', `${REST_PATHS.segments}/${positiveId(segmentId)}/contact/${positiveId(id)}/add`);
  }

  /** `POST /api/segments/{segmentId}/contact/{contactId}/remove`. */
  async removeFromSegment(segmentId: number, id: number): Promise<void> {
    await this.request('POST', `${REST_PATHS.segments}/${positiveId(segmentId)}/contact/${positiveId(id)}/remove`);
  }

  /**
   * `POST /api/contacts/{id}/points/{operator}/{delta}` → `{"success":1}`. `reason` names the
   * change on the timeline (`eventName`, `actionName`). Mautic answers 500 for a non-numeric
   * delta, so only positive integers are sent.
   */
  async changePoints(id: number, operator: PointsOperator, delta: number, reason?: { eventName?: string; actionName?: string }): Promise<void> {
    if (!POINT_OPERATORS.has(operator)) throw new RangeError("operator must be 'plus', 'minus', 'times' or 'divide'");
    if (!Number.isSafeInteger(delta) || delta < 1) throw new RangeError('delta must be a positive integer');
    await this.request('POST', `${REST_PATHS.contacts}/${positiveId(id)}/points/${operator}/${delta}`, reason ?? {});
  }

  /** `changePoints(id, 'plus', points, reason)`. */
  addPoints(id: number, points: number, reason?: { eventName?: string; actionName?: string }): Promise<void> {
    return this.changePoints(id, 'plus', points, reason);
  }

  /**
   * `POST /api/contacts/{id}/dnc/{channel}/add`. `reason`: 1 unsubscribed, 2 bounced, 3 manual
   * (Mautic's default).
   */
  async addDoNotContact(id: number, channel = 'email', details?: { reason?: 1 | 2 | 3; comments?: string }): Promise<void> {
    await this.request('POST', `${REST_PATHS.contacts}/${positiveId(id)}/dnc/${channelName(channel)}/add`, details ?? {});
  }

  /** `POST /api/contacts/{id}/dnc/{channel}/remove`; `recordFound` says whether there was one. */
  async removeDoNotContact(id: number, channel = 'email'): Promise<{ recordFound: boolean }> {
    const { body } = await this.request<unknown>('POST', `${REST_PATHS.contacts}/${positiveId(id)}/dnc/${channelName(channel)}/remove`);
    return { recordFound: isRecord(body) && body.recordFound === true };
  }

  // ---- devices ----

  /** `GET /api/devices/{id}`. */
  async getDevice(id: number): Promise<MauticDevice> {
    const path = `${PATHS.devices}/${positiveId(id)}`;
    const { body } = await this.request<unknown>('GET', path);
    const device = isRecord(body) ? toDevice(body.device) : null;
    if (!device) throw invalidResponse('GET', path, 'no device in response');
    return device;
  }

  /** `GET /api/devices`: every tracked device (with its contact). */
  async listDevices(options: { start?: number; limit?: number } = {}): Promise<{ total: number; devices: MauticDevice[] }> {
    const query = new URLSearchParams({ start: String(options.start ?? 0), limit: String(options.limit ?? 30) });
    const { body } = await this.request<unknown>('GET', `${PATHS.devices}?${query.toString()}`);
    const devices = devicesOf(body);
    return { total: toCount(isRecord(body) ? body.total : undefined, devices.length), devices };
  }

  /**
   * The device with this tracking id (the `mautic_device_id` cookie), through
   * `GET /api/stats/lead_devices` (`/api/devices` does not expose tracking ids). Null if none.
   */
  async findDeviceByTrackingId(trackingId: string): Promise<MauticDeviceStat | null> {
    if (!/^[A-Za-z0-9]{1,64}$/.test(trackingId)) throw new RangeError('a tracking id is 1..64 letters and digits');
    const query = new URLSearchParams({ 'where[0][col]': 'tracking_id', 'where[0][expr]': 'eq', 'where[0][val]': trackingId });
    const { body } = await this.request<unknown>('GET', `${PATHS.leadDeviceStats}?${query.toString()}`);
    const rows = isRecord(body) ? listEntries(body.stats) : [];
    for (const row of rows) {
      if (!isRecord(row) || row.tracking_id !== trackingId) continue;
      const id = toId(row.id);
      if (id === null) continue;
      return { id, contactId: toId(row.lead_id), trackingId };
    }
    return null;
  }

  /** `PATCH /api/devices/{id}/edit {"contact": contactId}`: later hits with that device count for the contact. */
  async assignDevice(deviceId: number, toContactId: number): Promise<void> {
    await this.request('PATCH', `${PATHS.devices}/${positiveId(deviceId)}/edit`, { contact: positiveId(toContactId) });
  }

  // ---- fields and forms (setup-identify) ----

  /** `GET /api/fields/contact?search=…`: custom and core contact fields. */
  async listContactFields(search?: string): Promise<MauticField[]> {
    const query = new URLSearchParams({ limit: '200' });
    if (search) query.set('search', search);
    const { body } = await this.request<unknown>('GET', `${PATHS.contactFields}?${query.toString()}`);
    return (isRecord(body) ? listEntries(body.fields) : []).map(toField).filter((f): f is MauticField => f !== null);
  }

  /** `POST /api/fields/contact/new`. */
  async createContactField(field: NewContactField): Promise<MauticField> {
    const { body } = await this.request<unknown>('POST', `${PATHS.contactFields}/new`, field);
    const created = isRecord(body) ? toField(body.field) : null;
    if (!created) throw invalidResponse('POST', `${PATHS.contactFields}/new`, 'no field in response');
    return created;
  }

  /** `GET /api/forms?search=…`. */
  async listForms(search?: string): Promise<MauticForm[]> {
    const query = new URLSearchParams({ limit: '200' });
    if (search) query.set('search', search);
    const { body } = await this.request<unknown>('GET', `${PATHS.forms}?${query.toString()}`);
    return (isRecord(body) ? listEntries(body.forms) : []).map(toForm).filter((f): f is MauticForm => f !== null);
  }

  /** `POST /api/forms/new`. */
  async createForm(form: NewForm): Promise<MauticForm> {
    const { body } = await this.request<unknown>('POST', `${PATHS.forms}/new`, form);
    const created = isRecord(body) ? toForm(body.form) : null;
    if (!created) throw invalidResponse('POST', `${PATHS.forms}/new`, 'no form in response');
    return created;
  }

  private async batch(method: Method, path: string, items: unknown[]): Promise<BatchItemResult[]> {
    const { body } = await this.request<unknown>(method, path, items);
    const results = toBatchResults(body, items.length);
    if (!results) throw invalidResponse(method, path, 'the batch answer has no statusCodes for its items');
    return results;
  }

  /**
   * One API call with the retry policy above, bounded by the call's deadline (`callTimeoutMs`)
   * and the view's (`bounded`). Returns the parsed JSON body; throws the `MauticApiError`
   * subclass of the failure, including for a 2xx whose body carries `errors`.
   */
  async request<T = unknown>(method: Method, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    // Errors name the path without its query: a search carries the visitor's email.
    const where = { method, path: path.split('?')[0]! };
    const deadline = callDeadline(this.signal, this.options.callTimeoutMs ?? (this.options.timeoutMs ?? 10_000) * 3);
    try {
      return await this.attempts<T>(method, path, body, where, deadline);
    } finally {
      deadline.done();
    }
  }

  private async attempts<T>(method: Method, path: string, body: unknown, where: CallSite, deadline: CallDeadline): Promise<{ status: number; body: T }> {
    const idempotent = method === 'GET';
    const maxAttempts = idempotent ? 1 + Math.max(0, this.options.retries ?? 2) : 1;
    const { signal } = deadline;
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new MauticTimeoutError(where);
      const authorization = await untilAborted(this.options.auth.authorization(), signal, where);
      try {
        return await this.once<T>(method, path, authorization, body, where, signal);
      } catch (err) {
        if (!(err instanceof MauticApiError)) throw err;
        if (err instanceof MauticAuthError && err.status === 401 && this.options.auth.refreshable && !reauthorized) {
          // A rejected token did nothing upstream, so even a POST may be retried once.
          reauthorized = true;
          this.options.auth.invalidate(authorization);
          attempt -= 1;
          continue;
        }
        const transient = err.status === 0 || err.status === 429 || err.status >= 500;
        if (!idempotent || !transient || attempt >= maxAttempts || signal.aborted) throw err;
        let delay = (this.options.backoffMs ?? 250) * 2 ** (attempt - 1);
        if (err instanceof MauticRateLimitError && err.rateLimitResetAt !== null) {
          const wait = err.retryAfterMs();
          if (wait > (this.options.maxRateLimitWaitMs ?? 5000)) throw err;
          delay = Math.max(delay, wait);
        }
        // No retry that cannot finish in time: the last failure is the honest answer.
        if (delay >= deadline.remaining()) throw err;
        await sleep(delay + Math.floor(Math.random() * 50), signal);
        if (signal.aborted) throw err;
      }
    }
  }

  private async once<T>(
    method: Method,
    path: string,
    authorization: string,
    body: unknown,
    where: CallSite,
    signal: AbortSignal,
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { response, text } = await exchange({
      fetch: this.fetchImpl,
      url: this.baseUrl + path,
      init: { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'error' },
      timeoutMs: this.options.timeoutMs ?? 10_000,
      signal,
      where,
    });
    const version = mauticVersionOf(response);
    if (version) this.seen.mauticVersion = version;
    const json = jsonOf(text);
    const failure = errorOfAnswer(response, json, where);
    if (failure) throw failure;
    return { status: response.status, body: json as T };
  }
}

interface CallDeadline {
  signal: AbortSignal;
  remaining(): number;
  done(): void;
}

/** A deadline of `ms` for one call, that also ends when the operation's `outer` signal does. */
function callDeadline(outer: AbortSignal | null, ms: number): CallDeadline {
  const controller = new AbortController();
  const endsAt = Date.now() + ms;
  const timer = setTimeout(() => controller.abort(), ms);
  const onAbort = (): void => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    remaining: () => (controller.signal.aborted ? 0 : Math.max(0, endsAt - Date.now())),
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** `promise`, or a `MauticTimeoutError` as soon as `signal` aborts (a token request that hangs). */
function untilAborted<V>(promise: Promise<V>, signal: AbortSignal, where: CallSite): Promise<V> {
  if (signal.aborted) return Promise.reject(new MauticTimeoutError(where));
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => reject(new MauticTimeoutError(where));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function positiveId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError('ids must be positive integers');
  return id;
}

const POINT_OPERATORS: ReadonlySet<string> = new Set<PointsOperator>(['plus', 'minus', 'times', 'divide']);

function channelName(channel: string): string {
  if (!/^[a-z_]{1,32}$/.test(channel)) throw new RangeError('channel must be a Mautic channel name like "email"');
  return channel;
}

function checkBatch(items: unknown[]): void {
  if (!Array.isArray(items) || items.length === 0 || items.length > BATCH_LIMIT) throw new RangeError('a batch has 1..200 items');
}

function checkTags(tags: string[]): string[] {
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > 100) throw new RangeError('tags: 1..100 tag names');
  return tags.map((tag) => {
    const name = typeof tag === 'string' ? tag.trim() : '';
    if (!TAG.test(name)) throw new RangeError('a tag is 1..100 characters, without commas or a leading "-"');
    return name;
  });
}

function devicesOf(body: unknown): MauticDevice[] {
  return (isRecord(body) ? listEntries(body.devices) : []).map(toDevice).filter((d): d is MauticDevice => d !== null);
}

/** Mautic's page order, restored: by the column (`id`, or a field in `fields.all`), ties by id. */
function sortContacts(contacts: MauticContact[], orderBy: string, dir: 'asc' | 'desc'): void {
  const key = (c: MauticContact): string | number => {
    if (orderBy === 'id') return c.id;
    const value = c.fields.all[orderBy] ?? c[orderBy];
    return typeof value === 'number' ? value : typeof value === 'string' ? value : '';
  };
  const sign = dir === 'asc' ? 1 : -1;
  contacts.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const order = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
    return (order || a.id - b.id) * sign;
  });
}

function invalidResponse(method: string, path: string, message: string): MauticApiError {
  return new MauticApiError({ status: 200, type: 'invalid_response', messages: [message], method, path });
}

function requireContact(body: ContactEnvelope | null, method: string, path: string): MauticContact {
  const contact = toContact(isRecord(body) ? body.contact : null);
  if (!contact) throw invalidResponse(method, path, 'no contact in response');
  return contact;
}
