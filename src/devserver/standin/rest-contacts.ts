/**
 * The contact resource (PROTOCOL §7): create-or-update, batch create, get, edit (PATCH) and
 * replace (PUT), with Mautic's overwrite rules for blanks.
 */
import { BATCH_LIMIT } from '../../protocol/rest.js';
import { contactJson } from './contact-json.js';
import { isBlank, type FieldValue } from './contact-store.js';
import { errorReply, jsonReply, type RequestContext } from './reply.js';
import {
  asFieldValue,
  contactById,
  contactReply,
  notFound,
  requireObject,
  truthy,
  ValidationError,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';
import type { Contact } from './types.js';

/** Keys of a contact payload that are not field aliases. */
const SPECIAL_KEYS = new Set([
  'id', 'overwritewithblank', 'tags', 'ipaddress', 'lastactive', 'owner', 'points', 'stage',
  'donotcontact', 'frequencyrules',
]);

/** Mautic field aliases are lower-case `[a-z0-9_]`; other keys are unknown fields and ignored. */
const FIELD_ALIAS = /^[a-z0-9_]+$/;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function registerContactRoutes(router: ApiRouter, deps: RestDeps): void {
  const contacts = new ContactResource(deps);
  router
    .add('POST', '/api/contacts/new', { operation: 'contact.new', handler: (ctx, _p, data) => contacts.createOrUpdate(ctx, data) })
    .add('POST', '/api/contacts/batch/new', { operation: 'contact.batch', handler: (_ctx, _p, data) => contacts.batchNew(data) })
    .add('GET', '/api/contacts/{id}', { operation: 'contact.get', handler: (_ctx, p) => contacts.get(p) })
    .add('PATCH', '/api/contacts/{id}/edit', { operation: 'contact.edit', handler: (ctx, p, data) => contacts.edit(ctx, p, data, 'patch') })
    .add('PUT', '/api/contacts/{id}/edit', { operation: 'contact.replace', handler: (ctx, p, data) => contacts.edit(ctx, p, data, 'put') });
}

class ContactResource {
  constructor(private readonly deps: RestDeps) {}

  get(params: Record<string, string>): HandlerResult {
    const contact = contactById(this.deps.store, params.id);
    if (!contact) return notFound();
    return contactReply(this.deps, 200, contact);
  }

  /** `POST /api/contacts/new`: update the newest contact with the same unique field, else create. */
  createOrUpdate(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    const outcome = this.upsert(payload);
    const headers: Record<string, string> = outcome.created ? { Location: `${ctx.origin}/api/contacts/${outcome.contact.id}` } : {};
    return contactReply(this.deps, outcome.created ? 201 : 200, outcome.contact, headers);
  }

  /** `POST /api/contacts/batch/new`: at most 200 items; each answered like `contacts/new`. */
  batchNew(data: unknown): HandlerResult {
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
        contacts.push(contactJson(contact, this.deps.tagIds));
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
  edit(ctx: RequestContext, params: Record<string, string>, data: unknown, mode: 'patch' | 'put'): HandlerResult {
    const { store, recorder } = this.deps;
    const payload = requireObject(data);
    const parsed = parseContactPayload(payload);
    let contact = contactById(store, params.id);
    if (!contact) {
      if (mode === 'patch') return notFound();
      contact = store.create('api');
      this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
      store.changed(contact);
      return contactReply(this.deps, 201, contact, { Location: `${ctx.origin}/api/contacts/${contact.id}` });
    }
    const duplicate = this.findByUniqueFields(parsed.fields, contact.id);
    if (duplicate) {
      store.merge(contact, duplicate);
      recorder.reassignHits(duplicate.id, contact.id);
    }
    if (mode === 'put') {
      contact.fields = {};
      contact.tags = [];
    }
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    store.changed(contact);
    return contactReply(this.deps, 200, contact);
  }

  private upsert(payload: Record<string, unknown>): { contact: Contact; created: boolean } {
    const parsed = parseContactPayload(payload);
    const existing = this.findByUniqueFields(parsed.fields);
    const contact = existing ?? this.deps.store.create('api');
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    this.deps.store.changed(contact);
    return { contact, created: !existing };
  }

  private applyPayload(contact: Contact, parsed: ParsedPayload, overwriteWithBlank: boolean): void {
    const { store } = this.deps;
    store.writeFields(contact, parsed.fields, { overwriteWithBlank, zeroIsBlank: true });
    const company = parsed.fields.company;
    if (!isBlank(company, true)) contact.company.company = String(company).trim();
    if (parsed.tags !== undefined) store.applyTags(contact, parsed.tags);
    if (parsed.ipAddress) store.addIp(contact, parsed.ipAddress);
    if (parsed.lastActive) contact.lastActive = parsed.lastActive;
    if (parsed.owner !== undefined) contact.owner = parsed.owner;
    if (parsed.points !== undefined && (overwriteWithBlank || parsed.points !== 0)) contact.points = parsed.points;
  }

  private findByUniqueFields(fields: Record<string, FieldValue>, excludeId?: number): Contact | undefined {
    for (const field of this.deps.uniqueFields) {
      const value = fields[field];
      if (isBlank(value, true)) continue;
      const found = this.deps.store.findNewestByField(field, String(value), excludeId);
      if (found) return found;
    }
    return undefined;
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
