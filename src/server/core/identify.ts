/**
 * Verified identification: `POST {base}/identify` from the browser and `proxy.identify()` from
 * trusted server code. The browser's contact and device come only from the signed binding cookie
 * (or from the server code), never from anything the browser claims. This module checks the
 * request (origin, rate limit, body, single-use token) and bounds the whole operation by one
 * deadline; what happens in Mautic is identify-flow.ts.
 */
import type { MauticRestClient, ContactFields } from '../rest/client.js';
import { MauticApiError, MauticAuthError, MauticTimeoutError, type MauticAuthFailure } from '../rest/errors.js';
import type { Binding, BindingSigner } from './binding.js';
import { parseCookieHeader, serializeCookie } from './cookies.js';
import type { ResolvedConfig } from './config.js';
import { Deadline } from './deadline.js';
import { HistoryMerger } from './history-merge.js';
import { errorResponse, mediaType, readBodyLimited } from './http.js';
import { IdentifyFlow, type FlowProgress, type FlowResult } from './identify-flow.js';
import { IdentityTokenVerifier, tokenSpendKey } from './identity-token.js';
import type { Log } from './logger.js';
import { RateLimit } from './rate-limit.js';
import { isSecureSite } from './relay.js';
import { spendToken } from './used-tokens.js';

/** Body of `POST {base}/identify`. */
export interface IdentifyRequestBody {
  email: string;
  fields?: Record<string, string | number | boolean>;
  token?: string;
}

/** Options of the server-side `proxy.identify()`. */
export interface ServerIdentifyOptions {
  email: string;
  /** Any contact fields (trusted code: not limited to `identify.allowedFields`). */
  fields?: ContactFields;
  /** Update this contact (your code knows it). */
  contactId?: number;
  /** Or: update the contact bound to this visitor's browser (its binding cookie). */
  request?: Request;
}

export interface ServerIdentifyResult {
  contactId: number;
  /** True when Mautic created a new contact. */
  created: boolean;
  /** A `Set-Cookie` value binding the browser to the contact (only with `request`), else null. */
  setCookie: string | null;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_FIELDS = 50;
const MAX_FIELD_LENGTH = 1024;

export function isValidEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value);
}

type FieldCheck = { ok: true; fields: ContactFields } | { ok: false };

function checkFields(value: unknown): FieldCheck {
  if (value === undefined || value === null) return { ok: true, fields: {} };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false };
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_FIELDS) return { ok: false };
  const fields: ContactFields = {};
  for (const [key, v] of entries) {
    if (!FIELD_NAME.test(key)) return { ok: false };
    if (v === null) continue; // "no value": Mautic would not overwrite with a blank anyway
    if (typeof v === 'string' && v.length <= MAX_FIELD_LENGTH) fields[key] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) fields[key] = v;
    else if (typeof v === 'boolean') fields[key] = v;
    else return { ok: false };
  }
  return { ok: true, fields };
}

export interface IdentifyDeps {
  config: ResolvedConfig;
  binding: BindingSigner;
  client: MauticRestClient;
  log: Log;
}

/** What the visitor's browser told us beyond the body: used for the history form post. */
interface Visitor {
  userAgent: string;
  clientIp: string;
}

export class Identifier {
  private readonly tokens: IdentityTokenVerifier | null;
  private readonly rateLimit: RateLimit;
  private readonly history: HistoryMerger | null;
  private readonly settings: NonNullable<ResolvedConfig['identify']>;

  constructor(private readonly deps: IdentifyDeps) {
    const settings = deps.config.identify;
    if (!settings) throw new Error('identify is not configured');
    this.settings = settings;
    this.tokens = settings.mode === 'token' ? new IdentityTokenVerifier(settings.tokenSecret) : null;
    this.rateLimit = new RateLimit(deps.config.store, settings.rateLimit.max, settings.rateLimit.windowMs);
    // Unsigned mode lets anyone name any email: never fold their visits into someone's contact.
    this.history = settings.history && settings.mode === 'token'
      ? new HistoryMerger(settings.history, {
          mauticUrl: deps.config.mauticUrl,
          fetch: deps.config.fetch,
          timeoutMs: deps.config.timeoutMs,
          log: deps.log,
        })
      : null;
    if (!settings.history && !settings.historyExplicitlyOff && settings.mode === 'token') {
      deps.log('warn', 'identify.history is not set: a returning customer\'s anonymous visits stay on a separate contact. Run `npx mautic-tracker setup-identify`, or set identify.history to false');
    }
  }

  /** `POST {base}/identify`. Every rejection happens before any upstream call. */
  async handleRequest(request: Request, url: URL, clientIp: string): Promise<Response> {
    const { config, log } = this.deps;
    if (mediaType(request.headers.get('content-type')) !== 'application/json') {
      return errorResponse(415, 'unsupported_media_type');
    }
    const origin = request.headers.get('origin');
    if (!origin || !this.originAllowed(origin, request, url)) {
      log('info', 'identify refused: origin not allowed');
      return errorResponse(403, 'forbidden_origin');
    }
    let allowed: boolean;
    try {
      allowed = await this.rateLimit.allow(`identify:${clientIp}`);
    } catch {
      // Without the shared counter the limit cannot be enforced: refuse rather than run unlimited.
      log('error', 'identify refused: the store failed (rate limit)');
      return errorResponse(503, 'store_unavailable', { 'retry-after': '5' });
    }
    if (!allowed) {
      return errorResponse(429, 'rate_limited', { 'retry-after': String(Math.ceil(this.settings.rateLimit.windowMs / 1000)) });
    }
    const read = await readBodyLimited(request, config.maxBodyBytes, config.timeoutMs);
    if (!read.ok) return read.response;
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read.bytes));
    } catch {
      return errorResponse(400, 'invalid_json');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return errorResponse(400, 'invalid_json');
    const { email, fields: rawFields, token } = body as Record<string, unknown>;
    if (!isValidEmail(email)) return errorResponse(400, 'invalid_email');
    const checked = checkFields(rawFields);
    if (!checked.ok) return errorResponse(400, 'invalid_fields');
    if (this.tokens) {
      if (typeof token !== 'string' || token === '') return errorResponse(401, 'token_required');
      const verdict = await this.tokens.check(token, email);
      if (verdict !== 'valid') {
        log('info', 'identify refused: bad token', { reason: verdict });
        return errorResponse(401, verdict === 'expired' ? 'token_expired' : 'invalid_token');
      }
      const spent = await this.spend(token);
      if (spent !== 'ok') return spent;
    }
    const fields: ContactFields = {};
    const ignored: string[] = [];
    for (const [key, value] of Object.entries(checked.fields)) {
      if (this.settings.allowedFields.has(key)) fields[key] = value;
      else ignored.push(key);
    }
    const binding = await this.bindingOf(request);
    const visitor = { userAgent: (request.headers.get('user-agent') ?? '').slice(0, 512), clientIp };
    const outcome = await this.identifyWithin(email.trim(), fields, binding, visitor);
    if (!outcome.ok) return outcome.response;
    const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    if (!binding || binding.contactId !== outcome.contactId) {
      headers.append('set-cookie', await this.bindingSetCookie(outcome.contactId, binding?.deviceId ?? '', url));
    }
    const payload = ignored.length > 0 ? { ok: true, ignoredFields: ignored } : { ok: true };
    return new Response(JSON.stringify(payload), { status: 200, headers });
  }

  /** Server-side identification for code that already knows the user. Throws `MauticApiError`. */
  async identify(options: ServerIdentifyOptions): Promise<ServerIdentifyResult> {
    if (!isValidEmail(options.email)) throw new TypeError('identify: a valid email is required');
    const checked = checkFields(options.fields);
    if (!checked.ok) throw new TypeError('identify: fields must be an object of strings, numbers, booleans');
    if (options.contactId !== undefined && (!Number.isSafeInteger(options.contactId) || options.contactId < 1)) {
      throw new TypeError('identify: contactId must be a positive integer');
    }
    const email = options.email.trim();
    if (options.contactId !== undefined) {
      // Trusted code names the contact: edit it as told (a 422 if another contact has the email).
      const deadline = new Deadline(this.deps.config.timeoutMs);
      try {
        const contact = await this.deps.client.bounded(deadline.signal).editContact(options.contactId, { ...checked.fields, email });
        return { contactId: contact.id, created: false, setCookie: null };
      } finally {
        deadline.done();
      }
    }
    const binding = options.request ? await this.bindingOf(options.request) : null;
    const visitor = {
      userAgent: (options.request?.headers.get('user-agent') ?? '').slice(0, 512),
      clientIp: '',
    };
    const deadline = new Deadline(this.deps.config.timeoutMs);
    const progress: FlowProgress = { settled: null };
    let result: { contactId: number; created: boolean };
    try {
      const { contactId, created } = await this.flow(deadline, progress).run({ email, fields: checked.fields, binding, visitor });
      result = { contactId, created };
    } finally {
      deadline.done();
    }
    let setCookie: string | null = null;
    if (options.request && (!binding || binding.contactId !== result.contactId)) {
      setCookie = await this.bindingSetCookie(result.contactId, binding?.deviceId ?? '', new URL(options.request.url));
    }
    return { ...result, setCookie };
  }

  /**
   * Runs the flow under one deadline of `timeoutMs`: the answer comes in time whatever Mautic
   * does. If time runs out after the browser was already moved to the right contact (only the
   * history merge was left), that is still a success.
   */
  private async identifyWithin(
    email: string,
    fields: ContactFields,
    binding: Binding | null,
    visitor: Visitor,
  ): Promise<{ ok: true; contactId: number } | { ok: false; response: Response }> {
    const deadline = new Deadline(this.deps.config.timeoutMs);
    const progress: FlowProgress = { settled: null };
    type Raced = { timedOut: true } | { timedOut: false; result: FlowResult };
    try {
      const result = await deadline.race<Raced>(
        this.flow(deadline, progress).run({ email, fields, binding, visitor }).then((r) => ({ timedOut: false, result: r })),
        () => ({ timedOut: true }),
      );
      if (!result.timedOut) {
        this.deps.log('info', 'identify done', { case: result.result.case, history: result.result.history, deviceMoved: result.result.deviceMoved });
        return { ok: true, contactId: result.result.contactId };
      }
      if (progress.settled) {
        this.deps.log('warn', 'identify: the history merge did not finish within timeoutMs; the browser already counts for the contact');
        return { ok: true, contactId: progress.settled.contactId };
      }
      this.deps.log('warn', 'identify: Mautic did not answer within timeoutMs');
      return { ok: false, response: errorResponse(504, 'upstream_timeout') };
    } catch (err) {
      if (progress.settled && err instanceof MauticApiError) {
        this.deps.log('warn', 'identify: the history merge failed; the browser already counts for the contact', { status: err.status, type: err.type });
        return { ok: true, contactId: progress.settled.contactId };
      }
      return { ok: false, response: this.upstreamFailure(err) };
    } finally {
      deadline.done();
    }
  }

  private flow(deadline: Deadline, progress: FlowProgress): IdentifyFlow {
    return new IdentifyFlow(this.deps.client.bounded(deadline.signal), { history: this.history, log: this.deps.log, signal: deadline.signal }, progress);
  }

  /**
   * The origin check (CSRF). By default the origin the browser used: the Host header it sent
   * (framework route handlers may build `request.url` from their own config, e.g. `localhost`
   * behind `next start -H 127.0.0.1`), or the URL's host (the Node adapters put a trusted
   * `X-Forwarded-Host` there). Never any other site.
   */
  private originAllowed(origin: string, request: Request, url: URL): boolean {
    if (this.settings.allowedOrigins) return this.settings.allowedOrigins.has(origin);
    if (origin === url.origin) return true;
    const host = request.headers.get('host');
    return host !== null && HOST_HEADER.test(host) && origin === `${url.protocol}//${host.toLowerCase()}`;
  }

  /** Spends the token in the store: a replay is 401 `token_used`, before any upstream call. */
  private async spend(token: string): Promise<'ok' | Response> {
    const { id, expiresAtMs } = tokenSpendKey(token);
    let first: boolean;
    try {
      first = await spendToken(this.deps.config.store, id, expiresAtMs);
    } catch {
      this.deps.log('error', 'identify refused: the store failed (used tokens)');
      return errorResponse(503, 'store_unavailable', { 'retry-after': '5' });
    }
    if (first) return 'ok';
    this.deps.log('info', 'identify refused: token already used');
    return errorResponse(401, 'token_used');
  }

  private async bindingOf(request: Request): Promise<Binding | null> {
    const value = parseCookieHeader(request.headers.get('cookie')).get(this.deps.config.bindingCookieName);
    return this.deps.binding.verify(value);
  }

  private async bindingSetCookie(contactId: number, deviceId: string, url: URL): Promise<string> {
    const { config } = this.deps;
    return serializeCookie(config.bindingCookieName, await this.deps.binding.sign(contactId, deviceId), {
      path: config.basePath || '/',
      secure: isSecureSite(config, url),
      httpOnly: true,
      maxAge: config.bindingMaxAgeSeconds,
    });
  }

  private upstreamFailure(err: unknown): Response {
    const { log } = this.deps;
    if (err instanceof MauticAuthError) {
      log('error', `identify: Mautic refused the proxy's API access: ${AUTH_FAILURE_HINTS[err.reason]}`, { reason: err.reason, status: err.status });
      return errorResponse(502, `mautic_${err.reason}`);
    }
    if (err instanceof MauticApiError) {
      log('warn', 'identify: Mautic API call failed', { status: err.status, type: err.type, call: `${err.method} ${err.path}` });
      return err instanceof MauticTimeoutError ? errorResponse(504, 'upstream_timeout') : errorResponse(502, 'upstream_error');
    }
    log('error', 'identify failed', { error: err instanceof Error ? err.name : 'unknown' });
    return errorResponse(500, 'internal_error');
  }
}

const HOST_HEADER = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

/** What a site owner should fix, per auth failure (logged; never a secret). */
const AUTH_FAILURE_HINTS: Record<MauticAuthFailure, string> = {
  invalid_client: 'invalid_client: the OAuth2 client id or secret is wrong (Settings → API Credentials)',
  unauthorized_client: 'unauthorized_client: this API client may not use client_credentials; create it as an administrator',
  api_disabled: 'api_disabled: the API is off (Configuration → API Settings → API enabled)',
  basic_auth_disabled: 'basic_auth_disabled: HTTP basic auth is off (Configuration → API Settings)',
  invalid_credentials: 'invalid_credentials: Mautic refused the username/password or keeps refusing the token',
  forbidden: 'forbidden: the API user lacks a permission identification needs (see README "Identification")',
};
