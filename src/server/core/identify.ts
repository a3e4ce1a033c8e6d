/**
 * Verified identification: `POST {base}/identify` from the browser and `proxy.identify()` from
 * trusted server code. The browser's contact and device come only from the signed binding cookie
 * (or from the server code), never from anything the browser claims. This module checks the
 * request (origin, rate limit, body, single-use token) and bounds the whole operation by one
 * deadline; what happens in Mautic is identify-flow.ts.
 */
import type { MauticRestClient, ContactFields } from '../rest/client.js';
import { MauticApiError, MauticAuthError, MauticTimeoutError, MauticValidationError, type MauticAuthFailure } from '../rest/errors.js';
import type { Binding, BindingSigner } from './binding.js';
import { bindingOfCookies, bindingSetCookie } from './binding-cookie.js';
import type { ResolvedConfig } from './config.js';
import { Deadline } from './deadline.js';
import { HistoryMerger } from './history-merge.js';
import { bodyReadFailureMessage, errorMessage, HOST_HEADER, mediaType } from './http.js';
import { IdentifyFlow, type FlowProgress, type FlowResult } from './identify-flow.js';
import { checkFollowUps, hasFollowUps, runFollowUps, type IdentifyFollowUps, type IdentifyStep } from './identify-followups.js';
import { IdentityTokenVerifier, tokenSpendKey } from './identity-token.js';
import type { Log } from './logger.js';
import type { PlainRequest, PlainResponse } from './plain-message.js';
import { RateLimit } from './rate-limit.js';
import { spendToken } from './used-tokens.js';

/** Body of `POST {base}/identify`. */
export interface IdentifyRequestBody {
  email: string;
  fields?: Record<string, string | number | boolean>;
  token?: string;
}

/** Options of the server-side `proxy.identify()`; `tags`, `segments`, `points` follow in the same call. */
export interface ServerIdentifyOptions extends IdentifyFollowUps {
  email: string;
  /** Any contact fields (trusted code: not limited to `identify.allowedFields`). */
  fields?: ContactFields;
  /** Update this contact (your code knows it). */
  contactId?: number;
  /** Or: update the contact bound to this visitor's browser (its binding cookie). */
  request?: Request;
}

/** `ServerIdentifyOptions` past the Web edge: the visitor's request as the core's plain request. */
export type PlainIdentifyOptions = Omit<ServerIdentifyOptions, 'request'> & { request?: PlainRequest };

export interface ServerIdentifyResult {
  contactId: number;
  /** True when Mautic created a new contact. */
  created: boolean;
  /** A `Set-Cookie` value binding the browser to the contact (only with `request`), else null. */
  setCookie: string | null;
  /** What became of each requested tag/segment/points step, in that order (empty when none were asked). */
  steps: IdentifyStep[];
}

const utf8 = new TextEncoder();
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
  async handleRequest(request: PlainRequest, url: URL, clientIp: string): Promise<PlainResponse> {
    const { config, log } = this.deps;
    if (mediaType(request.header('content-type')) !== 'application/json') {
      return errorMessage(415, 'unsupported_media_type');
    }
    const origin = request.header('origin');
    if (!origin || !this.originAllowed(origin, request, url)) {
      log('info', 'identify refused: origin not allowed');
      return errorMessage(403, 'forbidden_origin');
    }
    let allowed: boolean;
    try {
      allowed = await this.rateLimit.allow(`identify:${clientIp}`);
    } catch {
      // Without the shared counter the limit cannot be enforced: refuse rather than run unlimited.
      log('error', 'identify refused: the store failed (rate limit)');
      return errorMessage(503, 'store_unavailable', [['retry-after', '5']]);
    }
    if (!allowed) {
      return errorMessage(429, 'rate_limited', [['retry-after', String(Math.ceil(this.settings.rateLimit.windowMs / 1000))]]);
    }
    const read = await request.readBody(config.maxBodyBytes);
    if (!read.ok) return bodyReadFailureMessage(read.status);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read.bytes));
    } catch {
      return errorMessage(400, 'invalid_json');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return errorMessage(400, 'invalid_json');
    const { email, fields: rawFields, token } = body as Record<string, unknown>;
    if (!isValidEmail(email)) return errorMessage(400, 'invalid_email');
    const checked = checkFields(rawFields);
    if (!checked.ok) return errorMessage(400, 'invalid_fields');
    if (this.tokens) {
      if (typeof token !== 'string' || token === '') return errorMessage(401, 'token_required');
      const verdict = await this.tokens.check(token, email);
      if (verdict !== 'valid') {
        log('info', 'identify refused: bad token', { reason: verdict });
        return errorMessage(401, verdict === 'expired' ? 'token_expired' : 'invalid_token');
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
    const visitor = { userAgent: (request.header('user-agent') ?? '').slice(0, 512), clientIp };
    const outcome = await this.identifyWithin(email.trim(), fields, binding, visitor);
    if (!outcome.ok) return outcome.response;
    const headers: Array<[string, string]> = [
      ['content-type', 'application/json; charset=utf-8'],
      ['cache-control', 'no-store'],
    ];
    if (!binding || binding.contactId !== outcome.contactId) {
      headers.push(['set-cookie', await bindingSetCookie(config, this.deps.binding, outcome.contactId, binding?.deviceId ?? '', url)]);
    }
    const payload = ignored.length > 0 ? { ok: true, ignoredFields: ignored } : { ok: true };
    return { status: 200, headers, body: utf8.encode(JSON.stringify(payload)) };
  }

  /** Server-side identification for code that already knows the user. Throws `MauticApiError`. */
  async identify(options: PlainIdentifyOptions): Promise<ServerIdentifyResult> {
    if (!isValidEmail(options.email)) throw new TypeError('identify: a valid email is required');
    const checked = checkFields(options.fields);
    if (!checked.ok) throw new TypeError('identify: fields must be an object of strings, numbers, booleans');
    if (options.contactId !== undefined && (!Number.isSafeInteger(options.contactId) || options.contactId < 1)) {
      throw new TypeError('identify: contactId must be a positive integer');
    }
    checkFollowUps(options);
    const email = options.email.trim();
    // One deadline for the identification and its follow-ups together.
    const deadline = new Deadline(this.deps.config.timeoutMs);
    const api = this.deps.client.bounded(deadline.signal);
    let result: { contactId: number; created: boolean };
    let binding: Binding | null = null;
    try {
      if (options.contactId !== undefined) {
        // Trusted code names the contact: edit it as told (a 422 if another contact has the email).
        await refuseTakenEmailBefore5(api, options.contactId, email);
        const contact = await api.editContact(options.contactId, { ...checked.fields, email });
        result = { contactId: contact.id, created: false };
      } else {
        binding = options.request ? await this.bindingOf(options.request) : null;
        const visitor = { userAgent: (options.request?.header('user-agent') ?? '').slice(0, 512), clientIp: '' };
        const progress: FlowProgress = { settled: null };
        try {
          const { contactId, created } = await this.flow(deadline, progress).run({ email, fields: checked.fields, binding, visitor });
          result = { contactId, created };
        } catch (err) {
          // As for `POST /identify`: once the browser counts for the contact, only the optional
          // history merge was left, and its failure is not the identification's.
          if (!progress.settled || !(err instanceof MauticApiError)) throw err;
          this.deps.log('warn', 'identify: the history merge did not finish; the browser already counts for the contact', { status: err.status, type: err.type });
          result = progress.settled;
        }
      }
      const steps = hasFollowUps(options) ? await runFollowUps(api, result.contactId, options, this.deps.log) : [];
      let setCookie: string | null = null;
      if (options.request && options.contactId === undefined && (!binding || binding.contactId !== result.contactId)) {
        setCookie = await bindingSetCookie(this.deps.config, this.deps.binding, result.contactId, binding?.deviceId ?? '', new URL(options.request.url));
      }
      return { ...result, setCookie, steps };
    } finally {
      deadline.done();
    }
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
  ): Promise<{ ok: true; contactId: number } | { ok: false; response: PlainResponse }> {
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
      return { ok: false, response: errorMessage(504, 'upstream_timeout') };
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
    // Half the budget for a merge that runs before the device move ("found" survives): the
    // search, the device lookup and its PATCH still fit in the other half.
    const mergeBudgetMs = Math.max(1, Math.floor(deadline.budgetMs / 2));
    return new IdentifyFlow(this.deps.client.bounded(deadline.signal), { history: this.history, log: this.deps.log, signal: deadline.signal, mergeBudgetMs }, progress);
  }

  /**
   * The origin check (CSRF). By default the origin the browser used: the Host header it sent
   * (framework route handlers may build `request.url` from their own config, e.g. `localhost`
   * behind `next start -H 127.0.0.1`), or the URL's host (the Node adapters put a trusted
   * `X-Forwarded-Host` there). Never any other site.
   */
  private originAllowed(origin: string, request: PlainRequest, url: URL): boolean {
    if (this.settings.allowedOrigins) return this.settings.allowedOrigins.has(origin);
    if (origin === url.origin) return true;
    const host = request.header('host');
    return host !== null && HOST_HEADER.test(host) && origin === `${url.protocol}//${host.toLowerCase()}`;
  }

  /** Spends the token in the store: a replay is 401 `token_used`, before any upstream call. */
  private async spend(token: string): Promise<'ok' | PlainResponse> {
    const { id, expiresAtMs } = tokenSpendKey(token);
    let first: boolean;
    try {
      first = await spendToken(this.deps.config.store, id, expiresAtMs);
    } catch {
      this.deps.log('error', 'identify refused: the store failed (used tokens)');
      return errorMessage(503, 'store_unavailable', [['retry-after', '5']]);
    }
    if (first) return 'ok';
    this.deps.log('info', 'identify refused: token already used');
    return errorMessage(401, 'token_used');
  }

  private bindingOf(request: PlainRequest): Promise<Binding | null> {
    return bindingOfCookies(this.deps.config, this.deps.binding, request.header('cookie'));
  }

  private upstreamFailure(err: unknown): PlainResponse {
    const { log } = this.deps;
    if (err instanceof MauticAuthError) {
      log('error', `identify: Mautic refused the proxy's API access: ${AUTH_FAILURE_HINTS[err.reason]}`, { reason: err.reason, status: err.status });
      return errorMessage(502, `mautic_${err.reason}`);
    }
    if (err instanceof MauticApiError) {
      log('warn', 'identify: Mautic API call failed', { status: err.status, type: err.type, call: `${err.method} ${err.path}` });
      return err instanceof MauticTimeoutError ? errorMessage(504, 'upstream_timeout') : errorMessage(502, 'upstream_error');
    }
    log('error', 'identify failed', { error: err instanceof Error ? err.name : 'unknown' });
    return errorMessage(500, 'internal_error');
  }
}

/**
 * Mautic 4 merges two contacts when a PATCH gives one the email of the other; Mautic 5 refuses
 * with 422 (its unique-field check runs first, docs/protocol.md §10.1). On a Mautic not known to
 * be 5 or later (the search also tells), the 5.x answer is given here instead, and no PATCH is
 * sent.
 */
async function refuseTakenEmailBefore5(api: MauticRestClient, contactId: number, email: string): Promise<void> {
  if ((api.mauticMajorVersion ?? 0) >= 5) return;
  const others = (await api.findContactsByEmail(email)).filter((c) => c.id !== contactId);
  if ((api.mauticMajorVersion ?? 0) >= 5 || others.length === 0) return;
  throw new MauticValidationError({
    status: 422,
    type: null,
    messages: ['email: This field must be unique.'],
    details: { email: ['This field must be unique.'] },
    method: 'PATCH',
    path: `/api/contacts/${contactId}/edit`,
    mauticVersion: api.mauticVersion,
  });
}

/** What a site owner should fix, per auth failure (logged; never a secret). */
const AUTH_FAILURE_HINTS: Record<MauticAuthFailure, string> = {
  invalid_client: 'invalid_client: the OAuth2 client id or secret is wrong (Settings → API Credentials)',
  unauthorized_client: 'unauthorized_client: this API client may not use client_credentials; create it as an administrator, or use the authorization code flow (`npx mautic-tracker authorize`)',
  invalid_grant: 'invalid_grant: Mautic refused the stored refresh token (expired, revoked or used twice); run `npx mautic-tracker authorize` again',
  not_authorized: 'not_authorized: no OAuth2 tokens are stored yet; run `npx mautic-tracker authorize` once',
  api_disabled: 'api_disabled: the API is off (Configuration → API Settings → API enabled)',
  basic_auth_disabled: 'basic_auth_disabled: HTTP basic auth is off (Configuration → API Settings)',
  missing_credentials: 'missing_credentials: Mautic saw no credentials in the request (a proxy in front of Mautic may strip Authorization)',
  invalid_credentials: 'invalid_credentials: Mautic refused the username/password',
  token_invalid: 'token_invalid: Mautic keeps refusing fresh access tokens (are they from another Mautic or client?)',
  token_expired: 'token_expired: Mautic calls fresh access tokens expired (is the clock of this server or of Mautic wrong?)',
  forbidden: 'forbidden: the API user lacks a permission identification needs (see README "Identification")',
};
