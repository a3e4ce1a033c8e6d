/**
 * The contact resource (docs/protocol.md §7): list/search, create-or-update, batch create and edit, get,
 * edit (PATCH), replace (PUT) and delete, with Mautic's overwrite rules for blanks and its
 * unique-field validator: a unique identifier value another contact has is a 422, and the REST API
 * never merges contacts (docs/protocol.md §10.1, §10.2).
 */
import { BATCH_LIMIT } from '../../protocol/rest.js';
import { parseFormLikePhp } from './body.js';
import { contactJson, type ContactView } from './contact-json.js';
import { parseContactSearch } from './contact-search.js';
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

/** Mautic's default page size for API lists. */
const DEFAULT_LIST_LIMIT = 30;

const UNIQUE_MESSAGE = 'This field must be unique.';

export function registerContactRoutes(router: ApiRouter, deps: RestDeps): void {
  const contacts = new ContactResource(deps);
  // The batch routes come first: `/api/contacts/{id}/edit` would otherwise take `batch` as an id.
  router
    .add('GET', '/api/contacts', { operation: 'contact.list', handler: (ctx) => contacts.list(ctx) })
    .add('POST', '/api/contacts/new', { operation: 'contact.new', handler: (ctx, _p, data) => contacts.createOrUpdate(ctx, data) })
    .add('POST', '/api/contacts/batch/new', { operation: 'contact.batch', handler: (_ctx, _p, data) => contacts.batchNew(data) })
    .add('PATCH', '/api/contacts/batch/edit', { operation: 'contact.batch.edit', handler: (ctx, _p, data) => contacts.batchEdit(ctx, data, 'patch') })
    .add('PUT', '/api/contacts/batch/edit', { operation: 'contact.batch.edit', handler: (ctx, _p, data) => contacts.batchEdit(ctx, data, 'put') })
    .add('GET', '/api/contacts/{id}', { operation: 'contact.get', handler: (_ctx, p) => contacts.get(p) })
    .add('PATCH', '/api/contacts/{id}/edit', { operation: 'contact.edit', handler: (ctx, p, data) => contacts.edit(ctx, p, data, 'patch') })
    .add('PUT', '/api/contacts/{id}/edit', { operation: 'contact.replace', handler: (ctx, p, data) => contacts.edit(ctx, p, data, 'put') })
    .add('DELETE', '/api/contacts/{id}/delete', { operation: 'contact.delete', handler: (_ctx, p) => contacts.delete(p) });
}

type BatchItemResult =
  | { status: number; contact: Contact | undefined; view: ContactView }
  | { status: number; error: Record<string, unknown> };

class ContactResource {
  constructor(private readonly deps: RestDeps) {}

  get(params: Record<string, string>): HandlerResult {
    const contact = contactById(this.deps.store, params.id);
    if (!contact) return notFound();
    return contactReply(this.deps, 200, contact);
  }

  /** `GET /api/contacts`: `{"total":"<n>","contacts":{"<id>":{…}}}` (total a string, keyed by id). */
  list(ctx: RequestContext): HandlerResult {
    const query = parseFormLikePhp(ctx.rawQuery);
    const { store } = this.deps;
    const matchesSearch = parseContactSearch(query.search ?? '', (alias) => store.fields.byAlias(alias) !== undefined);
    const found = store.all().filter(matchesSearch);
    const orderBy = query.orderBy ?? 'id';
    const direction = (query.orderByDir ?? 'ASC').toUpperCase() === 'DESC' ? -1 : 1;
    found.sort((a, b) => direction * compare(sortValue(a, orderBy), sortValue(b, orderBy)) || a.id - b.id);
    const start = nonNegativeInt(query.start, 0);
    const limit = nonNegativeInt(query.limit, DEFAULT_LIST_LIMIT) || DEFAULT_LIST_LIMIT;
    const view = truthy(query.minimal) ? 'minimal' : 'loaded';
    const contacts: Record<string, unknown> = {};
    for (const contact of found.slice(start, start + limit)) {
      contacts[String(contact.id)] = contactJson(contact, this.deps.tagIds, view, store.fields.list());
    }
    return { reply: jsonReply(200, { total: String(found.length), contacts }), contactId: null };
  }

  /** `DELETE /api/contacts/{id}/delete`: answers the contact as it was. */
  delete(params: Record<string, string>): HandlerResult {
    const contact = contactById(this.deps.store, params.id);
    if (!contact) return notFound();
    const result = contactReply(this.deps, 200, contact);
    this.deps.store.delete(contact);
    return result;
  }

  /**
   * `PATCH|PUT /api/contacts/batch/edit`: 200 with per-item status codes; an unknown id is a 404
   * entry (`{message, code, type:"api"}` as recorded), a validation failure a `{code, message,
   * details, type:null}` entry, both keyed by the item's index.
   */
  batchEdit(ctx: RequestContext, data: unknown, mode: 'patch' | 'put'): HandlerResult {
    return this.batch(data, 200, (item) => {
      const payload = requireObject(item);
      const result = this.edit(ctx, { id: String(payload.id ?? '') }, payload, mode);
      if (result.reply.status === 404) return { status: 404, error: { message: 'Item was not found.', code: 404, type: 'api' } };
      const contact = result.contactId === null ? undefined : this.deps.store.get(result.contactId);
      return { status: result.reply.status, contact, view: 'loaded' };
    });
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
    return this.batch(data, 201, (item) => {
      const { contact, created } = this.upsert(requireObject(item));
      return { status: created ? 201 : 200, contact, view: created ? 'fresh' : 'loaded' };
    });
  }

  /**
   * A batch: each item answered by `one`, its status in `statusCodes`, its contact in `contacts`,
   * its failure (a validation error included) keyed by the item's index in `errors`.
   */
  private batch(data: unknown, status: 200 | 201, one: (item: unknown) => BatchItemResult): HandlerResult {
    const items = batchItems(data);
    if (items instanceof Error) return { reply: errorReply(400, items.message), contactId: null };
    const contacts: unknown[] = [];
    const statusCodes: number[] = [];
    const errors: Record<string, unknown> = {};
    items.forEach((item, index) => {
      try {
        const result = one(item);
        statusCodes.push(result.status);
        if ('error' in result) errors[String(index)] = result.error;
        else if (result.contact) contacts.push(contactJson(result.contact, this.deps.tagIds, result.view, this.deps.store.fields.list()));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        statusCodes.push(error.status);
        errors[String(index)] = { code: error.status, message: error.message, details: error.detailsJson, type: null };
      }
    });
    const body: Record<string, unknown> = { contacts, statusCodes };
    if (Object.keys(errors).length > 0) body.errors = errors;
    return { reply: jsonReply(status, body), contactId: null };
  }

  /**
   * `PATCH` edits (404 when missing); `PUT` replaces, and on an unknown id creates a contact with a
   * new id (not the path's). A unique identifier value another contact has is a 422: nothing changes
   * and nothing is merged.
   */
  edit(ctx: RequestContext, params: Record<string, string>, data: unknown, mode: 'patch' | 'put'): HandlerResult {
    const { store } = this.deps;
    const payload = requireObject(data);
    const parsed = parseContactPayload(payload);
    let contact = contactById(store, params.id);
    if (!contact) {
      if (mode === 'patch') return notFound();
      this.assertUnique(parsed.fields, undefined);
      contact = store.create('api');
      this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
      store.changed(contact);
      return contactReply(this.deps, 201, contact, { Location: `${ctx.origin}/api/contacts/${contact.id}` });
    }
    this.assertUnique(parsed.fields, contact.id);
    if (mode === 'put') {
      contact.fields = {};
      contact.tags = [];
    }
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    store.changed(contact);
    return contactReply(this.deps, 200, contact);
  }

  /**
   * `contacts/new` updates the contact that has the payload's unique identifier value; then the
   * validator refuses the value if yet another contact has it (two share it → 422).
   */
  private upsert(payload: Record<string, unknown>): { contact: Contact; created: boolean } {
    const parsed = parseContactPayload(payload);
    const existing = this.findByUniqueFields(parsed.fields);
    this.assertUnique(parsed.fields, existing?.id);
    const contact = existing ?? this.deps.store.create('api');
    this.applyPayload(contact, parsed, parsed.overwriteWithBlank);
    this.deps.store.changed(contact);
    return { contact, created: !existing };
  }

  /** Mautic's UniqueCustomField constraint: 422 `<alias>: This field must be unique.` */
  private assertUnique(fields: Record<string, FieldValue>, ownId: number | undefined): void {
    const details: Record<string, string[]> = {};
    for (const field of this.deps.uniqueFields) {
      const value = fields[field];
      if (isBlank(value, true)) continue;
      if (this.deps.store.findAllByField(field, String(value), ownId).length > 0) details[field] = [UNIQUE_MESSAGE];
    }
    if (Object.keys(details).length > 0) throw new ValidationError(details, 422);
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

function batchItems(data: unknown): unknown[] | Error {
  const items = Array.isArray(data) ? data : data && typeof data === 'object' ? Object.values(data) : undefined;
  if (!items) return new Error('A list of contacts is required.');
  if (items.length > BATCH_LIMIT) return new Error(`A max of ${BATCH_LIMIT} entities are supported at a time.`);
  return items;
}

function nonNegativeInt(raw: string | undefined, fallback: number): number {
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

const DATE_KEYS: Record<string, (contact: Contact) => string | null> = {
  dateadded: (contact) => contact.createdAt,
  datemodified: (contact) => contact.updatedAt,
  lastactive: (contact) => contact.lastActive,
  last_active: (contact) => contact.lastActive,
};

function sortValue(contact: Contact, orderBy: string): string | number {
  const key = orderBy.replace(/^l\./, '');
  if (key === 'id') return contact.id;
  if (key === 'points') return contact.points;
  const date = DATE_KEYS[key.toLowerCase()];
  if (date) return date(contact) ?? '';
  return (contact.fields[key] ?? '').toLowerCase();
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
    throw new ValidationError({ email: [`${String(email).trim()} is invalid.`] });
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
