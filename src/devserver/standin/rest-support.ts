/**
 * What every REST resource module of the stand-in shares: the handler contract, the route table
 * they register on, Mautic's validation error, and the small body and id helpers.
 */
import { contactJson, type ContactView, type TagIds } from './contact-json.js';
import type { ContactStore, FieldValue } from './contact-store.js';
import type { Recorder } from './recorder.js';
import { errorReply, jsonReply, type Reply, type RequestContext } from './reply.js';
import type { Router } from './router.js';
import type { Contact } from './types.js';

export interface HandlerResult {
  reply: Reply;
  /** The contact the call created, read or changed, for the dashboard's API log. */
  contactId: number | null;
}

/** `data` is the parsed JSON or form body (`{}` when empty). */
export type Handler = (ctx: RequestContext, params: Record<string, string>, data: unknown) => HandlerResult;

/** One `/api/…` route: the operation name shown on the dashboard and its handler. */
export interface ApiRoute {
  operation: string;
  handler: Handler;
}

export type ApiRouter = Router<ApiRoute>;

/** What the resource modules work on. */
export interface RestDeps {
  store: ContactStore;
  recorder: Recorder;
  tagIds: TagIds;
  /** Unique identifier fields (Mautic's default: email). */
  uniqueFields: string[];
}

/** A 400 with Mautic's per-field `details` (`{"email":["…"]}`). */
export class ValidationError extends Error {
  constructor(
    readonly details: Record<string, string[]>,
    readonly status = 400,
    /** The entry's message; by default Mautic's `field: message` list. */
    message = Object.entries(details).map(([field, messages]) => `${field}: ${messages.join(' ')}`).join(' '),
  ) {
    super(message);
  }

  /** Mautic's `details`: the per-field messages, or `[]` (a PHP empty array) when there are none. */
  get detailsJson(): Record<string, string[]> | [] {
    return Object.keys(this.details).length > 0 ? this.details : [];
  }
}

export function notFound(message = 'Item was not found.'): HandlerResult {
  return { reply: errorReply(404, message), contactId: null };
}

export function requireObject(data: unknown): Record<string, unknown> {
  if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  throw new ValidationError({ body: ['A JSON object (or form fields) is required.'] });
}

/** Primitive values become field values; arrays and objects are not field values (undefined). */
export function asFieldValue(value: unknown): FieldValue {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return undefined;
}

export function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** A positive integer id from a path segment, or undefined. */
export function pathId(raw: string | undefined): number | undefined {
  return raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined;
}

/** Merged-away ids answer the contact they were merged into, as on Mautic. */
export function contactById(store: ContactStore, raw: string | undefined): Contact | undefined {
  const id = pathId(raw);
  return id === undefined ? undefined : store.resolve(id);
}

/**
 * `{"contact":{…}}` as Mautic's contact controllers answer: a 201 carries the entity as created
 * in this request (`fresh`), anything else as loaded, unless the controller serializes otherwise.
 */
export function contactReply(
  deps: RestDeps,
  status: number,
  contact: Contact,
  headers: Record<string, string> = {},
  view: ContactView = status === 201 ? 'fresh' : 'loaded',
  extra: Record<string, unknown> = {},
): HandlerResult {
  const json = contactJson(contact, deps.tagIds, view, deps.store.fields.list());
  return { reply: jsonReply(status, { ...extra, contact: json }, headers), contactId: contact.id };
}

/**
 * A failure Mautic answers with its generic 500 page (a PHP type error in a controller, e.g. a
 * non-numeric points delta): no `Mautic-Version`, the generic message.
 */
export class InternalServerError extends Error {}

/** "Contact not found." as the points and segment controllers answer it (their own cache headers). */
export function contactNotFound(): HandlerResult {
  const reply = errorReply(404, 'Contact not found.');
  return { reply: { ...reply, headers: { ...reply.headers, ...expiringHeaders() } }, contactId: null };
}

/** `Cache-Control`/`Expires` of answers that Mautic marks as expiring at once. */
export function expiringHeaders(): Record<string, string> {
  return { 'Cache-Control': 'max-age=0, must-revalidate, private', Expires: new Date().toUTCString() };
}

/**
 * The list search of the field and form resources: `alias:x` matches the alias exactly, a bare
 * term is found in the alias or the name (ignoring case); no search matches everything.
 */
export function matchesSearch(search: string | undefined, alias: string, name: string): boolean {
  const term = (search ?? '').trim().toLowerCase();
  if (term === '') return true;
  if (term.startsWith('alias:')) return alias.toLowerCase() === term.slice('alias:'.length);
  return alias.toLowerCase().includes(term) || name.toLowerCase().includes(term);
}
