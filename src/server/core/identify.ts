/**
 * Verified identification: `POST {base}/identify` from the browser and `proxy.identify()` from
 * trusted server code. The contact to update comes only from the signed binding cookie (or from
 * the server code), never from anything the browser claims.
 */
import type { MauticRestClient, ContactFields } from '../rest/client.js';
import { MauticApiError } from '../rest/errors.js';
import type { Binding, BindingSigner } from './binding.js';
import { parseCookieHeader, serializeCookie } from './cookies.js';
import type { ResolvedConfig } from './config.js';
import { errorResponse, mediaType, readBodyLimited } from './http.js';
import { IdentityTokenVerifier, normalizeEmail } from './identity-token.js';
import type { Log } from './logger.js';
import { MemoryRateLimitStore, type RateLimitStore } from './rate-limit.js';
import { isSecureSite } from './relay.js';

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

export class Identifier {
  private readonly tokens: IdentityTokenVerifier | null;
  private readonly store: RateLimitStore;
  private readonly settings: NonNullable<ResolvedConfig['identify']>;

  constructor(private readonly deps: IdentifyDeps) {
    const settings = deps.config.identify;
    if (!settings) throw new Error('identify is not configured');
    this.settings = settings;
    this.tokens = settings.mode === 'token' ? new IdentityTokenVerifier(settings.tokenSecret) : null;
    this.store = settings.rateLimit.store ?? new MemoryRateLimitStore();
  }

  /** `POST {base}/identify`. Every rejection happens before any upstream call. */
  async handleRequest(request: Request, url: URL, clientIp: string): Promise<Response> {
    const { config, log } = this.deps;
    if (mediaType(request.headers.get('content-type')) !== 'application/json') {
      return errorResponse(415, 'unsupported_media_type');
    }
    const origin = request.headers.get('origin');
    const allowed = this.settings.allowedOrigins ?? new Set([url.origin]);
    if (!origin || !allowed.has(origin)) {
      log('info', 'identify refused: origin not allowed');
      return errorResponse(403, 'forbidden_origin');
    }
    let count: number;
    try {
      count = await this.store.hit(`identify:${clientIp}`, this.settings.rateLimit.windowMs);
    } catch {
      log('error', 'rate limit store failed');
      return errorResponse(503, 'internal_error');
    }
    if (count > this.settings.rateLimit.max) {
      return errorResponse(429, 'rate_limited', { 'retry-after': String(Math.ceil(this.settings.rateLimit.windowMs / 1000)) });
    }
    const read = await readBodyLimited(request, config.maxBodyBytes);
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
    }
    const fields: ContactFields = {};
    const ignored: string[] = [];
    for (const [key, value] of Object.entries(checked.fields)) {
      if (this.settings.allowedFields.has(key)) fields[key] = value;
      else ignored.push(key);
    }
    const binding = await this.bindingOf(request);
    try {
      const result = await this.upsert(email.trim(), fields, binding ? { contactId: binding.contactId, fromBinding: true } : null);
      const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      if (!binding || binding.contactId !== result.contactId) {
        headers.append('set-cookie', await this.bindingSetCookie(result.contactId, binding?.deviceId ?? '', url));
      }
      const payload = ignored.length > 0 ? { ok: true, ignoredFields: ignored } : { ok: true };
      return new Response(JSON.stringify(payload), { status: 200, headers });
    } catch (err) {
      return this.upstreamFailure(err);
    }
  }

  /** Server-side identification for code that already knows the user. Throws `MauticApiError`. */
  async identify(options: ServerIdentifyOptions): Promise<ServerIdentifyResult> {
    if (!isValidEmail(options.email)) throw new TypeError('identify: a valid email is required');
    const checked = checkFields(options.fields);
    if (!checked.ok) throw new TypeError('identify: fields must be an object of strings, numbers, booleans');
    if (options.contactId !== undefined && (!Number.isSafeInteger(options.contactId) || options.contactId < 1)) {
      throw new TypeError('identify: contactId must be a positive integer');
    }
    const binding = options.request ? await this.bindingOf(options.request) : null;
    const target =
      options.contactId !== undefined
        ? { contactId: options.contactId, fromBinding: false }
        : binding
          ? { contactId: binding.contactId, fromBinding: true }
          : null;
    const result = await this.upsert(options.email.trim(), checked.fields, target);
    let setCookie: string | null = null;
    if (options.request && (!binding || binding.contactId !== result.contactId)) {
      setCookie = await this.bindingSetCookie(result.contactId, binding?.deviceId ?? '', new URL(options.request.url));
    }
    return { ...result, setCookie };
  }

  private async bindingOf(request: Request): Promise<Binding | null> {
    const value = parseCookieHeader(request.headers.get('cookie')).get(this.deps.config.bindingCookieName);
    return this.deps.binding.verify(value);
  }

  /**
   * PATCH the bound contact (Mautic merges an existing contact with that email into it), else POST
   * new. A bound contact that already carries a *different* email is another person (a shared
   * browser): it is left alone and the visitor gets a contact of their own, so two identified
   * people are never merged. `contactId` given by server code is trusted as is.
   */
  private async upsert(
    email: string,
    fields: ContactFields,
    target: { contactId: number; fromBinding: boolean } | null,
  ): Promise<{ contactId: number; created: boolean }> {
    const payload: ContactFields = { ...fields, email };
    if (target) {
      try {
        const usable = !target.fromBinding || (await this.boundContactAccepts(target.contactId, email));
        if (usable) {
          const contact = await this.deps.client.editContact(target.contactId, payload);
          return { contactId: contact.id, created: false };
        }
      } catch (err) {
        // The bound contact was deleted in Mautic: fall back to create-or-update by email.
        if (!(err instanceof MauticApiError && err.status === 404)) throw err;
      }
    }
    const { contact, created } = await this.deps.client.createOrUpdateContact(payload);
    return { contactId: contact.id, created };
  }

  /** True when the bound contact is anonymous or already has this email. Throws 404 if it is gone. */
  private async boundContactAccepts(contactId: number, email: string): Promise<boolean> {
    const contact = await this.deps.client.getContact(contactId);
    const current = contact.fields?.all?.email;
    return typeof current !== 'string' || current === '' || normalizeEmail(current) === normalizeEmail(email);
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
    if (err instanceof MauticApiError) {
      this.deps.log('warn', 'identify: Mautic API call failed', { status: err.status, type: err.type });
      return err.type === 'timeout' ? errorResponse(504, 'upstream_timeout') : errorResponse(502, 'upstream_error');
    }
    this.deps.log('error', 'identify failed', { error: err instanceof Error ? err.name : 'unknown' });
    return errorResponse(500, 'internal_error');
  }
}
