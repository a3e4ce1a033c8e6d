/**
 * Contact fields over REST: `GET /api/fields/contact[/{id}]`, `POST /api/fields/contact/new`,
 * `PATCH|PUT /api/fields/contact/{id}/edit`, `DELETE /api/fields/contact/{id}/delete` (custom fields
 * only). Flags set here (`isUniqueIdentifier`, `isPubliclyUpdatable`) take effect at once in
 * tracking, the unique-field validator and form posts (docs/protocol.md §10.9, §11).
 */
import type { FieldGroup } from './field-definitions.js';
import { FIELD_TYPES, FIRST_CUSTOM_ID, FLAG_KEYS, type FieldChanges, type NewField, type RegisteredField } from './fields.js';
import { parseFormLikePhp } from './body.js';
import { mauticDate } from './php-values.js';
import { jsonReply, type RequestContext } from './reply.js';
import {
  matchesSearch,
  notFound,
  pathId,
  requireObject,
  truthy,
  ValidationError,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';

/** Mautic keeps aliases to 25 characters of [a-z0-9_]. */
const ALIAS_MAX = 25;

const GROUPS: readonly FieldGroup[] = ['core', 'social', 'personal', 'professional'];

export function registerFieldRoutes(router: ApiRouter, deps: RestDeps): void {
  const fields = new FieldResource(deps);
  router
    .add('GET', '/api/fields/contact', { operation: 'field.list', handler: (ctx) => fields.list(ctx) })
    .add('POST', '/api/fields/contact/new', { operation: 'field.new', handler: (ctx, _p, data) => fields.create(ctx, data) })
    .add('GET', '/api/fields/contact/{id}', { operation: 'field.get', handler: (_ctx, p) => fields.get(p) })
    .add('PATCH', '/api/fields/contact/{id}/edit', { operation: 'field.edit', handler: (_ctx, p, data) => fields.edit(p, data) })
    .add('PUT', '/api/fields/contact/{id}/edit', { operation: 'field.edit', handler: (_ctx, p, data) => fields.edit(p, data) })
    .add('DELETE', '/api/fields/contact/{id}/delete', { operation: 'field.delete', handler: (_ctx, p) => fields.delete(p) });
}

class FieldResource {
  constructor(private readonly deps: RestDeps) {}

  /** `search` matches alias or label (`alias:visitor_ref` exactly), so a setup can look before it creates. */
  list(ctx: RequestContext): HandlerResult {
    const query = parseFormLikePhp(ctx.rawQuery);
    const all = this.deps.store.fields.list().filter((field) => matchesSearch(query.search, field.alias, field.label));
    return { reply: jsonReply(200, { total: all.length, fields: all.map(fieldJson) }), contactId: null };
  }

  get(params: Record<string, string>): HandlerResult {
    const field = this.byPath(params);
    return field ? { reply: jsonReply(200, { field: fieldJson(field) }), contactId: null } : notFound();
  }

  /** A taken alias gets a number appended, as Mautic makes aliases unique rather than refusing. */
  create(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    const label = typeof payload.label === 'string' ? payload.label.trim() : '';
    if (label === '') throw new ValidationError({ label: ['A value is required.'] });
    const type = typeof payload.type === 'string' ? payload.type : 'text';
    if (!FIELD_TYPES.has(type)) throw new ValidationError({ type: ['The value you selected is not a valid choice.'] });
    const registry = this.deps.store.fields;
    const base = cleanAlias(typeof payload.alias === 'string' && payload.alias.trim() !== '' ? payload.alias : label);
    if (base === '') throw new ValidationError({ alias: ['A value is required.'] });
    let alias = base;
    for (let n = 1; registry.byAlias(alias); n += 1) alias = `${base.slice(0, ALIAS_MAX - String(n).length)}${n}`;
    const input: NewField = { label, alias, type, ...flags(payload), createdByUser: this.deps.store.currentUser() };
    const group = GROUPS.find((name) => name === payload.group);
    if (group) input.group = group;
    if (typeof payload.defaultValue === 'string') input.defaultValue = payload.defaultValue;
    if (payload.properties && typeof payload.properties === 'object' && !Array.isArray(payload.properties)) {
      input.properties = payload.properties as Record<string, unknown>;
    }
    const field = registry.create(input);
    return {
      reply: jsonReply(201, { field: fieldJson(field) }, { Location: `${ctx.origin}/api/fields/contact/${field.id}` }),
      contactId: null,
    };
  }

  edit(params: Record<string, string>, data: unknown): HandlerResult {
    const field = this.byPath(params);
    if (!field) return notFound();
    const payload = requireObject(data);
    const changes: FieldChanges = { ...flags(payload), modifiedByUser: this.deps.store.currentUser() };
    if (typeof payload.label === 'string' && payload.label.trim() !== '') changes.label = payload.label.trim();
    if (typeof payload.defaultValue === 'string' || payload.defaultValue === null) changes.defaultValue = payload.defaultValue;
    this.deps.store.fields.update(field, changes);
    return { reply: jsonReply(200, { field: fieldJson(field) }), contactId: null };
  }

  delete(params: Record<string, string>): HandlerResult {
    const field = this.byPath(params);
    if (!field) return notFound();
    if (field.id < FIRST_CUSTOM_ID) throw new ValidationError({ id: ['Core fields cannot be deleted.'] });
    const body = { field: fieldJson(field) };
    this.deps.store.fields.remove(field);
    return { reply: jsonReply(200, body), contactId: null };
  }

  private byPath(params: Record<string, string>): RegisteredField | undefined {
    const id = pathId(params.id);
    return id === undefined ? undefined : this.deps.store.fields.get(id);
  }
}

function flags(payload: Record<string, unknown>): FieldChanges {
  const result: FieldChanges = {};
  for (const key of FLAG_KEYS) if (key in payload) result[key] = truthy(payload[key]);
  return result;
}

function cleanAlias(raw: string): string {
  return raw.toLowerCase().replace(/\s+/g, '_').replace(/[^a-z0-9_]/g, '').slice(0, ALIAS_MAX);
}

/** The field as `{"field":{…}}` carries it (recorded key order). */
export function fieldJson(field: RegisteredField): Record<string, unknown> {
  return {
    isPublished: field.isPublished,
    dateAdded: mauticDate(field.createdAt),
    dateModified: mauticDate(field.updatedAt),
    createdBy: null,
    createdByUser: field.createdByUser,
    modifiedBy: null,
    modifiedByUser: field.modifiedByUser,
    id: field.id,
    label: field.label,
    alias: field.alias,
    type: field.type,
    group: field.group,
    order: field.order,
    object: 'lead',
    defaultValue: field.defaultValue,
    isRequired: field.isRequired,
    isFixed: field.isFixed,
    isListable: field.isListable,
    isVisible: field.isVisible,
    isShortVisible: field.isShortVisible,
    isUniqueIdentifier: field.isUniqueIdentifier,
    isPubliclyUpdatable: field.isPubliclyUpdatable,
    properties: field.properties,
  };
}
