/**
 * A small typed client for the parts of Mautic's REST API that identification and tracking need
 * (docs/protocol.md §7). Web-standard only (fetch, AbortController), so it runs wherever the proxy runs.
 *
 * Retry policy: a 401/`invalid_grant` re-fetches the OAuth token once and retries (the request
 * was rejected before it did anything). Timeouts, network errors, 5xx and 429 are retried with
 * backoff only for GET; a POST/PATCH is never repeated, so nothing is created or merged twice.
 */
import { MAUTIC_VERSION_HEADER, REST_PATHS, RATE_LIMIT_HEADERS, type ContactEnvelope, type MauticContact } from '../../protocol/rest.js';
import type { AuthProvider } from './auth.js';
import { classifyApiError, MauticApiError, MauticNetworkError, MauticTimeoutError, parseErrorBody, parseJsonLoose } from './errors.js';

export interface MauticRestClientOptions {
  /** Mautic's base URL, e.g. `https://mautic.example.com`. */
  baseUrl: string;
  auth: AuthProvider;
  fetch?: typeof fetch;
  /** Per attempt. Default 10000 ms. */
  timeoutMs?: number;
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

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** REST paths beyond the shared protocol's (identification's device and setup calls). */
const PATHS = {
  ...REST_PATHS,
  leadDeviceStats: '/api/stats/lead_devices',
  devices: '/api/devices',
  contactFields: '/api/fields/contact',
  forms: '/api/forms',
} as const;

/** A device as `GET /api/stats/lead_devices` lists it (ids come as strings there). */
export interface MauticDeviceStat {
  /** The device's id, for `/api/devices/{id}`. */
  id: number;
  /** The contact the device belongs to. */
  contactId: number | null;
  /** The `mautic_device_id` cookie value. */
  trackingId: string;
}

/** A custom contact field, as `/api/fields/contact` returns it (what we read of it). */
export interface MauticField {
  id: number;
  alias: string;
  type: string;
  isUniqueIdentifier: boolean;
  isPublished: boolean;
}

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

/** A form field, reduced to what we read. */
export interface MauticFormField {
  id?: number;
  alias: string;
  type: string;
  mappedObject?: string | null;
  mappedField?: string | null;
}

export interface MauticForm {
  id: number;
  name: string;
  alias: string;
  formType: string;
  isPublished: boolean;
  fields: MauticFormField[];
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
  total: number;
  contacts: MauticContact[];
}

/** Longest search we send: a whole email plus Mautic's `email:` command. */
const MAX_SEARCH_LENGTH = 300;

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

  /** The `Mautic-Version` header of the latest API answer that had one (API controllers only). */
  get mauticVersion(): string | null {
    return this.seen.mauticVersion;
  }

  /** `GET /api/contacts/{id}`. A merged-away id answers with the contact it was merged into. */
  async getContact(id: number): Promise<MauticContact> {
    const { body } = await this.request<ContactEnvelope>('GET', `${REST_PATHS.contacts}/${contactId(id)}`);
    return requireContact(body, 'GET', `${REST_PATHS.contacts}/${id}`);
  }

  /** `POST /api/contacts/new`: updates the one contact with the same unique field, or creates one. */
  async createOrUpdateContact(fields: ContactFields): Promise<{ contact: MauticContact; created: boolean }> {
    const { status, body } = await this.request<ContactEnvelope>('POST', REST_PATHS.contactNew, fields);
    return { contact: requireContact(body, 'POST', REST_PATHS.contactNew), created: status === 201 };
  }

  /**
   * `PATCH /api/contacts/{id}/edit`. Mautic never merges here: a unique field (email) another
   * contact has is refused with 422 (`MauticValidationError`).
   */
  async editContact(id: number, fields: ContactFields): Promise<MauticContact> {
    const path = `${REST_PATHS.contacts}/${contactId(id)}/edit`;
    const { body } = await this.request<ContactEnvelope>('PATCH', path, fields);
    return requireContact(body, 'PATCH', path);
  }

  /** `DELETE /api/contacts/{id}/delete`. */
  async deleteContact(id: number): Promise<void> {
    await this.request('DELETE', `${REST_PATHS.contacts}/${contactId(id)}/delete`);
  }

  /**
   * `GET /api/contacts?search=…&minimal=1`. Parses Mautic's list shape (`total` as a string,
   * contacts keyed by id) into an array in ascending id order.
   */
  async searchContacts(search: string, options: { limit?: number } = {}): Promise<ContactList> {
    if (search.length === 0 || search.length > MAX_SEARCH_LENGTH) throw new RangeError('search must be 1..300 characters');
    const limit = options.limit ?? 30;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new RangeError('limit must be 1..200');
    const query = new URLSearchParams({ search, minimal: '1', orderBy: 'id', orderByDir: 'asc', limit: String(limit) });
    const path = `${REST_PATHS.contacts}?${query.toString()}`;
    const { body } = await this.request<unknown>('GET', path);
    const record = isRecord(body) ? body : {};
    const contacts = listEntries(record.contacts).filter(
      (c): c is MauticContact => isRecord(c) && typeof c.id === 'number' && Number.isSafeInteger(c.id) && c.id > 0,
    );
    contacts.sort((a, b) => a.id - b.id);
    const total = Number(record.total);
    return { total: Number.isSafeInteger(total) && total >= 0 ? total : contacts.length, contacts };
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
    await this.request('PATCH', `${PATHS.devices}/${contactId(deviceId)}/edit`, { contact: contactId(toContactId) });
  }

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

  /** `POST /api/contacts/{id}/utm/add`. */
  async addUtmTags(id: number, utm: UtmTags): Promise<void> {
    await this.request('POST', `${REST_PATHS.contacts}/${contactId(id)}/utm/add`, utm);
  }

  /** `POST /api/segments/{segmentId}/contact/{contactId}/add`. */
  async addToSegment(segmentId: number, id: number): Promise<void> {
    await this.request('POST', `${REST_PATHS.segments}/${contactId(segmentId)}/contact/${contactId(id)}/add`);
  }

  /** `POST /api/contacts/{id}/points/plus/{points}`. */
  async addPoints(id: number, points: number, reason?: { eventName?: string; actionName?: string }): Promise<void> {
    if (!Number.isInteger(points) || points < 1) throw new RangeError('points must be a positive integer');
    await this.request('POST', `${REST_PATHS.contacts}/${contactId(id)}/points/plus/${points}`, reason ?? {});
  }

  /** `POST /api/contacts/{id}/dnc/{channel}/add`. */
  async addDoNotContact(id: number, channel = 'email', details?: { reason?: number; comments?: string }): Promise<void> {
    if (!/^[a-z_]{1,32}$/.test(channel)) throw new RangeError('channel must be a Mautic channel name like "email"');
    await this.request('POST', `${REST_PATHS.contacts}/${contactId(id)}/dnc/${channel}/add`, details ?? {});
  }

  /**
   * One API call with the retry policy above. Returns the parsed JSON body; throws
   * `MauticApiError` on any failure, including a 2xx whose body carries `errors`.
   */
  async request<T = unknown>(method: Method, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const idempotent = method === 'GET';
    const maxAttempts = idempotent ? 1 + Math.max(0, this.options.retries ?? 2) : 1;
    // Errors name the path without its query: a search carries the visitor's email.
    const where = { method, path: path.split('?')[0]! };
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      if (this.signal?.aborted) throw new MauticTimeoutError(where);
      const authorization = await this.untilDeadline(this.options.auth.authorization(), where);
      try {
        return await this.once<T>(method, path, authorization, body, where);
      } catch (err) {
        if (!(err instanceof MauticApiError)) throw err;
        const authFailure = err.status === 401 || err.type === 'invalid_grant';
        if (authFailure && this.options.auth.refreshable && !reauthorized) {
          // A rejected token did nothing upstream, so even a POST may be retried once.
          reauthorized = true;
          this.options.auth.invalidate(authorization);
          attempt -= 1;
          continue;
        }
        const transient = err.status === 0 || err.status === 429 || err.status >= 500;
        if (!idempotent || !transient || attempt >= maxAttempts || this.signal?.aborted) throw err;
        let delay = (this.options.backoffMs ?? 250) * 2 ** (attempt - 1);
        if (err.status === 429 && err.rateLimitResetAt !== null) {
          const wait = err.rateLimitResetAt - Date.now();
          if (wait > (this.options.maxRateLimitWaitMs ?? 5000)) throw err;
          delay = Math.max(delay, wait);
        }
        await sleep(delay + Math.floor(Math.random() * 50), this.signal);
        // The deadline passed while backing off: the last failure is the honest answer.
        if (this.signal?.aborted) throw err;
      }
    }
  }

  /** `promise`, or a `MauticTimeoutError` as soon as the bounded view's signal aborts. */
  private untilDeadline<V>(promise: Promise<V>, where: { method: string; path: string }): Promise<V> {
    const signal = this.signal;
    if (!signal) return promise;
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

  private async once<T>(
    method: Method,
    path: string,
    authorization: string,
    body: unknown,
    where: { method: string; path: string },
  ): Promise<{ status: number; body: T }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 10_000);
    const outer = this.signal;
    const onAbort = (): void => controller.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    let res: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { authorization, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        redirect: 'error',
      });
      text = await res.text();
    } catch {
      throw controller.signal.aborted ? new MauticTimeoutError(where) : new MauticNetworkError(where);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
    const version = res.headers.get(MAUTIC_VERSION_HEADER);
    if (version && /^[0-9A-Za-z.+-]{1,32}$/.test(version)) this.seen.mauticVersion = version;
    const json = parseJsonLoose(text);
    const error = parseErrorBody(json);
    if (!res.ok || error) {
      const reset = Number(res.headers.get(RATE_LIMIT_HEADERS.reset));
      throw classifyApiError({
        status: res.ok ? (error?.code ?? res.status) : res.status,
        type: error?.type ?? null,
        messages: error?.messages ?? [],
        ...where,
        rateLimitResetAt: res.status === 429 && Number.isFinite(reset) && reset > 0 ? reset * 1000 : null,
      });
    }
    return { status: res.status, body: json as T };
  }
}

function contactId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError('ids must be positive integers');
  return id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mautic lists come as arrays or as objects keyed by id, depending on the entity. */
function listEntries(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return [];
}

/** Ids arrive as numbers or, from stats tables, as digit strings. */
function toId(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function toField(value: unknown): MauticField | null {
  if (!isRecord(value)) return null;
  const id = toId(value.id);
  if (id === null || typeof value.alias !== 'string') return null;
  return {
    id,
    alias: value.alias,
    type: typeof value.type === 'string' ? value.type : '',
    isUniqueIdentifier: value.isUniqueIdentifier === true || value.isUniqueIdentifer === true,
    isPublished: value.isPublished !== false,
  };
}

function toForm(value: unknown): MauticForm | null {
  if (!isRecord(value)) return null;
  const id = toId(value.id);
  if (id === null) return null;
  const fields = listEntries(value.fields)
    .filter(isRecord)
    .map((f) => ({
      ...(toId(f.id) !== null ? { id: toId(f.id)! } : {}),
      alias: typeof f.alias === 'string' ? f.alias : '',
      type: typeof f.type === 'string' ? f.type : '',
      mappedObject: typeof f.mappedObject === 'string' ? f.mappedObject : null,
      mappedField: typeof f.mappedField === 'string' ? f.mappedField : typeof f.leadField === 'string' ? f.leadField : null,
    }));
  return {
    id,
    name: typeof value.name === 'string' ? value.name : '',
    alias: typeof value.alias === 'string' ? value.alias : '',
    formType: typeof value.formType === 'string' ? value.formType : '',
    isPublished: value.isPublished !== false,
    fields,
  };
}

function invalidResponse(method: string, path: string, message: string): MauticApiError {
  return new MauticApiError({ status: 200, type: 'invalid_response', messages: [message], method, path });
}

function requireContact(body: ContactEnvelope | null, method: string, path: string): MauticContact {
  const contact = (body as { contact?: unknown } | null)?.contact as MauticContact | undefined;
  if (!contact || typeof contact !== 'object' || typeof contact.id !== 'number') {
    throw invalidResponse(method, path, 'no contact in response');
  }
  return contact;
}
