/**
 * The REST subset identification needs (PROTOCOL §7): auth, rate limit, then the contact,
 * segment, points and do-not-contact endpoints with Mautic's create-or-update, overwrite and
 * merge rules. Every answer carries `Mautic-Version` (added by the server for the 'api' route).
 */
import { BATCH_LIMIT } from '../../protocol/rest.js';
import type { ApiAuthenticator } from './api-auth.js';
import { isFormContentType, mediaType, parseFormLikePhp } from './body.js';
import { contactJson, type TagIds } from './contact-json.js';
import { UTM_KEYS, isBlank, type ContactStore, type FieldValue } from './contact-store.js';
import { createDynamicContentFromApi } from './dynamic-content.js';
import type { OAuthServer } from './oauth.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Recorder } from './recorder.js';
import { errorReply, jsonReply, type Reply, type RequestContext } from './reply.js';
import { Router } from './router.js';
import type { Contact } from './types.js';

interface HandlerResult {
  reply: Reply;
  contactId: number | null;
}

type Handler = (ctx: RequestContext, params: Record<string, string>, data: unknown) => HandlerResult;

/** Keys of a contact payload that are not field aliases. */
const SPECIAL_KEYS = new Set([
  'id', 'overwritewithblank', 'tags', 'ipaddress', 'lastactive', 'owner', 'points', 'stage',
  'donotcontact', 'frequencyrules',
]);

/** Mautic field aliases are lower-case `[a-z0-9_]`; other keys are unknown fields and ignored. */
const FIELD_ALIAS = /^[a-z0-9_]+$/;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

class ValidationError extends Error {
  constructor(readonly details: Record<string, string[]>) {
    super(Object.entries(details).map(([field, messages]) => `${field}: ${messages.join(' ')}`).join(' '));
  }
}

export class RestApi {
  private readonly router = new Router<{ operation: string; handler: Handler }>();

  constructor(
    private readonly store: ContactStore,
    private readonly recorder: Recorder,
    private readonly oauth: OAuthServer,
    private readonly auth: ApiAuthenticator,
    private readonly limiter: RateLimiter,
    private readonly tagIds: TagIds,
    private readonly uniqueFields: string[],
  ) {
    this.router
      .add('POST', '/api/contacts/new', { operation: 'contact.new', handler: (ctx, _p, data) => this.createOrUpdate(ctx, data) })
      .add('POST', '/api/contacts/batch/new', { operation: 'contact.batch', handler: (_ctx, _p, data) => this.batchNew(data) })
      .add('GET', '/api/contacts/{id}', { operation: 'contact.get', handler: (_ctx, p) => this.getContact(p) })
      .add('PATCH', '/api/contacts/{id}/edit', { operation: 'contact.edit', handler: (ctx, p, data) => this.edit(ctx, p, data, 'patch') })
      .add('PUT', '/api/contacts/{id}/edit', { operation: 'contact.replace', handler: (ctx, p, data) => this.edit(ctx, p, data, 'put') })
      .add('POST', '/api/contacts/{id}/utm/add', { operation: 'contact.utm', handler: (_ctx, p, data) => this.addUtm(p, data) })
      .add('POST', '/api/contacts/{id}/points/plus/{n}', { operation: 'contact.points', handler: (_ctx, p) => this.points(p, 1) })
      .add('POST', '/api/contacts/{id}/points/minus/{n}', { operation: 'contact.points', handler: (_ctx, p) => this.points(p, -1) })
      .add('POST', '/api/contacts/{id}/dnc/{channel}/add', { operation: 'contact.dnc', handler: (_ctx, p, data) => this.dnc(p, data, 'add') })
      .add('POST', '/api/contacts/{id}/dnc/{channel}/remove', { operation: 'contact.dnc', handler: (_ctx, p, data) => this.dnc(p, data, 'remove') })
      .add('POST', '/api/segments/{sid}/contact/{id}/add', { operation: 'segment.add', handler: (_ctx, p) => this.segment(p, 'add') })
      .add('POST', '/api/segments/{sid}/contact/{id}/remove', { operation: 'segment.remove', handler: (_ctx, p) => this.segment(p, 'remove') });
    this.router.add('POST', '/api/dynamiccontents/new', { operation: 'dynamiccontent.new', handler: (_ctx, _p, data) => createDynamicContentFromApi(this.store, data) });
  }

  /** Handles any request of the 'api' route class (`/api/*`, `/oauth/*`). */
  handle(ctx: RequestContext): Reply {
    if (ctx.path === '/oauth/v2/token') {
      if (ctx.method !== 'POST') return errorReply(405, 'Method Not Allowed');
      const { reply, clientId } = this.oauth.token(ctx);
      this.record(ctx, 'token', reply.status, null, clientId ? `oauth:${clientId}` : null);
      return reply;
    }

    const auth = this.auth.authenticate(ctx.headers.authorization, ctx.nowMs);
    if (!auth.ok) {
      this.record(ctx, 'auth', auth.reply.status, null, null);
      return auth.reply;
    }

    let rateHeaders: Record<string, string> = {};
    if (this.limiter.enabled) {
      const decision = this.limiter.hit(auth.key, ctx.nowMs);
      rateHeaders = decision.headers;
      if (!decision.allowed) {
        this.record(ctx, 'rate-limited', 429, null, auth.caller);
        return withHeaders(
          jsonReply(429, {
            errors: [{ code: 429, message: `You exceeded the rate limit of ${decision.limit} API calls per hour.`, details: [] }],
          }),
          rateHeaders,
        );
      }
    }

    const match = this.router.match(ctx.method, ctx.path);
    if (match === undefined || match === 'method-not-allowed') {
      const reply = match === undefined
        ? errorReply(404, 'Requested URL not found: ' + ctx.path)
        : errorReply(405, 'Method Not Allowed');
      this.record(ctx, 'unknown', reply.status, null, auth.caller);
      return withHeaders(reply, rateHeaders);
    }

    let result: HandlerResult;
    const data = parseApiBody(ctx);
    if (data instanceof Error) {
      result = { reply: errorReply(400, data.message), contactId: null };
    } else {
      try {
        result = match.handler.handler(ctx, match.params, data);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        result = { reply: errorReply(400, error.message, { details: error.details }), contactId: null };
      }
    }
    this.record(ctx, match.handler.operation, result.reply.status, result.contactId, auth.caller);
    return withHeaders(result.reply, rateHeaders);
  }

  private getContact(params: Record<string, string>): HandlerResult {
    const contact = this.contactById(params.id);
    if (!contact) return notFound();
    return this.contactReply(200, contact);
  }

  /** `POST /api/contacts/new`: update the newest contact with the same unique field, else create. */
  private createOrUpdate(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    const outcome = this.upsert(payload);
    const headers: Record<string, string> = outcome.created ? { Location: `${ctx.origin}/api/contacts/${outcome.contact.id}` } : {};
    return this.contactReply(outcome.created ? 201 : 200, outcome.contact, headers);
  }

  private upsert(payload: Record<string, unknown>): { contact: Contact; created: boolean } {
    const parsed = parseContactPayload(payload);
    const existing = this.findByUniqueFields(parsed.fields);
    const contact = existing ?? this.store.create('api');
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    this.store.changed(contact);
    return { contact, created: !existing };
  }

  /** `POST /api/contacts/batch/new`: at most 200 items; each answered like `contacts/new`. */
  private batchNew(data: unknown): HandlerResult {
    const items = Array.isArray(data)
      ? data
      : data && typeof data === 'object'
        ? Object.values(data)
        : undefined;
    if (!items) return { reply: errorReply(400, 'A list of contacts is required.'), contactId: null };
    if (items.length > BATCH_LIMIT) {
      return { reply: errorReply(400, `A max of ${BATCH_LIMIT} entities are supported at a time.`), contactId: null };
    }
    const contacts: unknown[] = [];
    const statusCodes: number[] = [];
    const errors: Record<string, unknown> = {};
    items.forEach((item, index) => {
      try {
        const { contact, created } = this.upsert(requireObject(item));
        contacts.push(contactJson(contact, this.tagIds));
        statusCodes.push(created ? 201 : 200);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        statusCodes.push(400);
        errors[String(index)] = { code: 400, message: error.message, details: error.details, type: null };
      }
    });
    const body: Record<string, unknown> = { contacts, statusCodes };
    if (Object.keys(errors).length > 0) body.errors = errors;
    return { reply: jsonReply(201, body), contactId: null };
  }

  /**
   * `PATCH` edits (404 when missing); `PUT` replaces (creates when missing). When the payload's
   * unique field belongs to another contact, that contact is merged into this one and deleted.
   */
  private edit(ctx: RequestContext, params: Record<string, string>, data: unknown, mode: 'patch' | 'put'): HandlerResult {
    const payload = requireObject(data);
    const parsed = parseContactPayload(payload);
    let contact = this.contactById(params.id);
    if (!contact) {
      if (mode === 'patch') return notFound();
      contact = this.store.create('api');
      this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
      this.store.changed(contact);
      return this.contactReply(201, contact, { Location: `${ctx.origin}/api/contacts/${contact.id}` });
    }
    const duplicate = this.findByUniqueFields(parsed.fields, contact.id);
    if (duplicate) {
      this.store.merge(contact, duplicate);
      this.recorder.reassignHits(duplicate.id, contact.id);
    }
    if (mode === 'put') {
      contact.fields = {};
      contact.tags = [];
    }
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    this.store.changed(contact);
    return this.contactReply(200, contact);
  }

  private addUtm(params: Record<string, string>, data: unknown): HandlerResult {
    const contact = this.contactById(params.id);
    if (!contact) return notFound();
    const payload = requireObject(data);
    const utm: Parameters<ContactStore['addUtm']>[1] = { source: 'api' };
    for (const key of UTM_KEYS) {
      const value = payload[key];
      if (!isBlank(asFieldValue(value), false)) utm[key] = String(value);
    }
    if (typeof payload.url === 'string') utm.url = payload.url;
    if (typeof payload.referer === 'string') utm.referer = payload.referer;
    this.store.addUtm(contact, utm);
    this.store.changed(contact);
    return this.contactReply(200, contact);
  }

  private points(params: Record<string, string>, sign: 1 | -1): HandlerResult {
    const contact = this.contactById(params.id);
    const delta = Number(params.n);
    if (!contact || !/^\d+$/.test(params.n ?? '')) return notFound();
    contact.points += sign * delta;
    this.store.changed(contact);
    return { reply: jsonReply(200, { success: 1 }), contactId: contact.id };
  }

  private dnc(params: Record<string, string>, data: unknown, action: 'add' | 'remove'): HandlerResult {
    const contact = this.contactById(params.id);
    const channel = params.channel ?? '';
    if (!contact) return notFound();
    if (action === 'add') {
      const payload = requireObject(data);
      const reason = Number(payload.reason ?? 3);
      this.store.addDoNotContact(contact, {
        channel,
        reason: [1, 2, 3].includes(reason) ? reason : 3,
        comments: typeof payload.comments === 'string' ? payload.comments : '',
      });
    } else {
      contact.doNotContact = contact.doNotContact.filter((entry) => entry.channel !== channel);
    }
    this.store.changed(contact);
    return this.contactReply(200, contact);
  }

  /** Segments are not modelled beyond their ids: any positive integer is a segment. */
  private segment(params: Record<string, string>, action: 'add' | 'remove'): HandlerResult {
    const contact = this.contactById(params.id);
    const segmentId = Number(params.sid);
    if (!contact || !/^\d+$/.test(params.sid ?? '') || segmentId < 1) return notFound();
    if (action === 'add' && !contact.segments.includes(segmentId)) contact.segments.push(segmentId);
    if (action === 'remove') contact.segments = contact.segments.filter((id) => id !== segmentId);
    this.store.changed(contact);
    return { reply: jsonReply(200, { success: 1 }), contactId: contact.id };
  }

  private applyPayload(contact: Contact, parsed: ParsedPayload, overwriteWithBlank: boolean): void {
    this.store.writeFields(contact, parsed.fields, { overwriteWithBlank, zeroIsBlank: true });
    const company = parsed.fields.company;
    if (!isBlank(company, true)) contact.company.company = String(company).trim();
    if (parsed.tags !== undefined) this.store.applyTags(contact, parsed.tags);
    if (parsed.ipAddress) this.store.addIp(contact, parsed.ipAddress);
    if (parsed.lastActive) contact.lastActive = parsed.lastActive;
    if (parsed.owner !== undefined) contact.owner = parsed.owner;
    if (parsed.points !== undefined && (overwriteWithBlank || parsed.points !== 0)) contact.points = parsed.points;
  }

  private findByUniqueFields(fields: Record<string, FieldValue>, excludeId?: number): Contact | undefined {
    for (const field of this.uniqueFields) {
      const value = fields[field];
      if (isBlank(value, true)) continue;
      const found = this.store.findNewestByField(field, String(value), excludeId);
      if (found) return found;
    }
    return undefined;
  }

  private contactById(raw: string | undefined): Contact | undefined {
    if (!raw || !/^\d+$/.test(raw)) return undefined;
    return this.store.get(Number(raw));
  }

  private contactReply(status: number, contact: Contact, headers: Record<string, string> = {}): HandlerResult {
    return { reply: jsonReply(status, { contact: contactJson(contact, this.tagIds) }, headers), contactId: contact.id };
  }

  private record(ctx: RequestContext, operation: string, status: number, contactId: number | null, caller: string | null): void {
    this.recorder.addApiCall({
      at: new Date(ctx.nowMs).toISOString(),
      method: ctx.method,
      path: ctx.path,
      operation,
      status,
      contactId,
      caller,
    });
  }
}

interface ParsedPayload {
  fields: Record<string, FieldValue>;
  overwriteWithBlank: boolean;
  tags?: string | string[];
  ipAddress?: string;
  lastActive?: string;
  owner?: number | null;
  points?: number;
}

function parseContactPayload(payload: Record<string, unknown>): ParsedPayload {
  const parsed: ParsedPayload = { fields: {}, overwriteWithBlank: truthy(payload.overwriteWithBlank) };
  for (const [key, value] of Object.entries(payload)) {
    if (SPECIAL_KEYS.has(key.toLowerCase())) continue;
    if (!FIELD_ALIAS.test(key)) continue;
    const fieldValue = asFieldValue(value);
    if (fieldValue === undefined && value !== undefined) continue;
    parsed.fields[key] = fieldValue;
  }
  const email = parsed.fields.email;
  if (!isBlank(email, false) && !EMAIL.test(String(email).trim())) {
    throw new ValidationError({ email: ['A valid email is required.'] });
  }
  const tags = payload.tags;
  if (typeof tags === 'string') parsed.tags = tags;
  else if (Array.isArray(tags)) parsed.tags = tags.filter((tag): tag is string => typeof tag === 'string');
  if (typeof payload.ipAddress === 'string' && payload.ipAddress.trim() !== '') parsed.ipAddress = payload.ipAddress.trim();
  if (typeof payload.lastActive === 'string' && payload.lastActive.trim() !== '') {
    const time = Date.parse(payload.lastActive);
    if (Number.isNaN(time)) throw new ValidationError({ lastActive: ['This value is not a valid datetime.'] });
    parsed.lastActive = new Date(time).toISOString();
  }
  if ('owner' in payload) {
    const owner = payload.owner === null || payload.owner === '' ? null : Number(payload.owner);
    if (owner !== null && !(Number.isInteger(owner) && owner > 0)) throw new ValidationError({ owner: ['Owner must be a user id.'] });
    parsed.owner = owner;
  }
  if (payload.points !== undefined && payload.points !== null && payload.points !== '') {
    const points = Number(payload.points);
    if (!Number.isInteger(points)) throw new ValidationError({ points: ['This value should be an integer.'] });
    parsed.points = points;
  }
  return parsed;
}

/** Primitive values become field values; arrays and objects are not field values (undefined). */
function asFieldValue(value: unknown): FieldValue {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function requireObject(data: unknown): Record<string, unknown> {
  if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  throw new ValidationError({ body: ['A JSON object (or form fields) is required.'] });
}

/** JSON or form bodies, as Mautic's API accepts both; an empty body is `{}`. */
function parseApiBody(ctx: RequestContext): unknown {
  if (ctx.bodyText.trim() === '') return {};
  if (isFormContentType(ctx.headers['content-type'])) return parseFormLikePhp(ctx.bodyText);
  const type = mediaType(ctx.headers['content-type']);
  if (type === 'application/json' || type === '' || type.endsWith('+json')) {
    try {
      return JSON.parse(ctx.bodyText) as unknown;
    } catch {
      return new Error('Request body is not valid JSON.');
    }
  }
  return new Error(`Unsupported content type: ${type}`);
}

function notFound(): HandlerResult {
  return { reply: errorReply(404, 'Item was not found.'), contactId: null };
}

function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  return { ...reply, headers: { ...reply.headers, ...headers } };
}
