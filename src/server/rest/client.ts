/**
 * A small typed client for the parts of Mautic's REST API that identification and tracking need
 * (PROTOCOL §7). Web-standard only (fetch, AbortController), so it runs wherever the proxy runs.
 *
 * Retry policy: a 401/`invalid_grant` re-fetches the OAuth token once and retries (the request
 * was rejected before it did anything). Timeouts, network errors, 5xx and 429 are retried with
 * backoff only for GET; a POST/PATCH is never repeated, so nothing is created or merged twice.
 */
import { REST_PATHS, RATE_LIMIT_HEADERS, type ContactEnvelope, type MauticContact } from '../../protocol/rest.js';
import type { AuthProvider } from './auth.js';
import { MauticApiError, parseErrorBody, parseJsonLoose } from './errors.js';

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

type Method = 'GET' | 'POST' | 'PATCH';

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms) as unknown as { unref?: () => void };
    t.unref?.();
  });

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

  constructor(private readonly options: MauticRestClientOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** `GET /api/contacts/{id}`. */
  async getContact(id: number): Promise<MauticContact> {
    const { body } = await this.request<ContactEnvelope>('GET', `${REST_PATHS.contacts}/${contactId(id)}`);
    return requireContact(body, 'GET', `${REST_PATHS.contacts}/${id}`);
  }

  /** `POST /api/contacts/new`: updates the newest contact with the same unique field, or creates one. */
  async createOrUpdateContact(fields: ContactFields): Promise<{ contact: MauticContact; created: boolean }> {
    const { status, body } = await this.request<ContactEnvelope>('POST', REST_PATHS.contactNew, fields);
    return { contact: requireContact(body, 'POST', REST_PATHS.contactNew), created: status === 201 };
  }

  /** `PATCH /api/contacts/{id}/edit`: Mautic merges another contact with the same email into `id`. */
  async editContact(id: number, fields: ContactFields): Promise<MauticContact> {
    const path = `${REST_PATHS.contacts}/${contactId(id)}/edit`;
    const { body } = await this.request<ContactEnvelope>('PATCH', path, fields);
    return requireContact(body, 'PATCH', path);
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
    let reauthorized = false;
    for (let attempt = 1; ; attempt++) {
      const authorization = await this.options.auth.authorization();
      let result: { status: number; body: T };
      try {
        result = await this.once<T>(method, path, authorization, body);
        return result;
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
        if (!idempotent || !transient || attempt >= maxAttempts) throw err;
        let delay = (this.options.backoffMs ?? 250) * 2 ** (attempt - 1);
        if (err.status === 429 && err.rateLimitResetAt !== null) {
          const wait = err.rateLimitResetAt - Date.now();
          if (wait > (this.options.maxRateLimitWaitMs ?? 5000)) throw err;
          delay = Math.max(delay, wait);
        }
        await sleep(delay + Math.floor(Math.random() * 50));
      }
    }
  }

  private async once<T>(method: Method, path: string, authorization: string, body: unknown): Promise<{ status: number; body: T }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 10_000);
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
      const timedOut = controller.signal.aborted;
      throw new MauticApiError({ status: 0, type: timedOut ? 'timeout' : 'network', messages: [], method, path });
    } finally {
      clearTimeout(timer);
    }
    const json = parseJsonLoose(text);
    const error = parseErrorBody(json);
    if (!res.ok || error) {
      const reset = Number(res.headers.get(RATE_LIMIT_HEADERS.reset));
      throw new MauticApiError({
        status: res.ok ? (error?.code ?? res.status) : res.status,
        type: error?.type ?? null,
        messages: error?.messages ?? [],
        method,
        path,
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

function requireContact(body: ContactEnvelope | null, method: string, path: string): MauticContact {
  const contact = (body as { contact?: unknown } | null)?.contact as MauticContact | undefined;
  if (!contact || typeof contact !== 'object' || typeof contact.id !== 'number') {
    throw new MauticApiError({ status: 200, type: 'invalid_response', messages: ['no contact in response'], method, path });
  }
  return contact;
}
