/**
 * Forms over REST: `GET /api/forms[/{id}]`, `POST /api/forms/new`, `DELETE /api/forms/{id}/delete`.
 * Fields map to contact fields (`mappedObject: "contact"`, `mappedField`); the actions the public
 * form post applies are `lead.changetags` and `lead.pointschange` (form-submit.ts).
 */
import type { FormAction, FormDefinition, NewFormAction, NewFormField } from './forms.js';
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

const POINT_OPERATORS = new Set(['plus', 'minus', 'times', 'divide']);

export function registerFormRoutes(router: ApiRouter, deps: RestDeps): void {
  const forms = new FormResource(deps);
  router
    .add('GET', '/api/forms', { operation: 'form.list', handler: (ctx) => forms.list(ctx) })
    .add('POST', '/api/forms/new', { operation: 'form.new', handler: (ctx, _p, data) => forms.create(ctx, data) })
    .add('GET', '/api/forms/{id}', { operation: 'form.get', handler: (_ctx, p) => forms.get(p) })
    .add('DELETE', '/api/forms/{id}/delete', { operation: 'form.delete', handler: (_ctx, p) => forms.delete(p) });
}

class FormResource {
  constructor(private readonly deps: RestDeps) {}

  /** `search` matches alias or name (`alias:identify` exactly). */
  list(ctx: RequestContext): HandlerResult {
    const query = parseFormLikePhp(ctx.rawQuery);
    const all = this.deps.store.forms.list().filter((form) => matchesSearch(query.search, form.alias, form.name));
    return { reply: jsonReply(200, { total: all.length, forms: all.map((form) => formJson(form)) }), contactId: null };
  }

  get(params: Record<string, string>): HandlerResult {
    const form = this.byPath(params);
    return form ? { reply: jsonReply(200, { form: formJson(form) }), contactId: null } : notFound();
  }

  create(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    const name = text(payload.name);
    if (name === '') throw new ValidationError({ name: ['A name is required.'] });
    const fields = listOf(payload.fields).map((raw, index) => this.field(raw, index));
    const actions = listOf(payload.actions).map((raw, index) => this.action(raw, index));
    const form = this.deps.store.forms.create({
      name,
      alias: alias(text(payload.alias) || name),
      description: text(payload.description) || null,
      isPublished: payload.isPublished === undefined ? true : truthy(payload.isPublished),
      formType: text(payload.formType) || 'standalone',
      postAction: text(payload.postAction) || 'message',
      postActionProperty: text(payload.postActionProperty) || null,
      inKioskMode: truthy(payload.inKioskMode),
      createdByUser: this.deps.store.currentUser(),
      fields,
      actions,
    });
    return {
      reply: jsonReply(201, { form: formJson(form) }, { Location: `${ctx.origin}/api/forms/${form.id}` }),
      contactId: null,
    };
  }

  delete(params: Record<string, string>): HandlerResult {
    const form = this.byPath(params);
    if (!form) return notFound();
    const body = { form: formJson(form) };
    this.deps.store.forms.delete(form.id);
    return { reply: jsonReply(200, body), contactId: null };
  }

  private field(raw: unknown, index: number): NewFormField {
    const field = requireObject(raw);
    const label = text(field.label);
    if (label === '') throw new ValidationError({ [`fields[${index}][label]`]: ['A label is required.'] });
    // `leadField` is the pre-4.x spelling of a contact mapping.
    const mappedField = text(field.mappedField) || text(field.leadField) || null;
    const mappedObject = text(field.mappedObject) || (mappedField ? 'contact' : null);
    return {
      label,
      alias: alias(text(field.alias) || label),
      type: text(field.type) || 'text',
      defaultValue: text(field.defaultValue) || null,
      isRequired: truthy(field.isRequired),
      showLabel: field.showLabel === undefined ? true : truthy(field.showLabel),
      validationMessage: text(field.validationMessage) || null,
      helpMessage: text(field.helpMessage) || null,
      properties: isRecord(field.properties) ? field.properties : {},
      mappedObject,
      mappedField,
    };
  }

  private action(raw: unknown, index: number): NewFormAction {
    const action = requireObject(raw);
    const type = text(action.type);
    if (type === '') throw new ValidationError({ [`actions[${index}][type]`]: ['A type is required.'] });
    const properties = isRecord(action.properties) ? { ...action.properties } : {};
    if (type === 'lead.changetags') {
      properties.add_tags = this.tagNames(properties.add_tags);
      properties.remove_tags = this.tagNames(properties.remove_tags);
    }
    if (type === 'lead.pointschange') {
      const operator = text(properties.operator) || 'plus';
      if (!POINT_OPERATORS.has(operator)) throw new ValidationError({ [`actions[${index}][properties][operator]`]: ['Unknown operator.'] });
      properties.operator = operator;
      properties.points = Number(properties.points ?? 0) || 0;
      properties.group ??= null;
    }
    return { name: text(action.name) || type, description: text(action.description) || null, type, properties };
  }

  /** Tags by name or by id, answered as names (as Mautic shows them); unknown ids are dropped. */
  private tagNames(raw: unknown): string[] {
    const known = new Map<number, string>();
    const names = new Set<string>();
    for (const contact of this.deps.store.all()) for (const tag of contact.tags) names.add(tag);
    for (const form of this.deps.store.forms.list()) {
      for (const action of form.actions) {
        for (const key of ['add_tags', 'remove_tags']) {
          const list = action.properties[key];
          if (Array.isArray(list)) for (const tag of list) if (typeof tag === 'string') names.add(tag);
        }
      }
    }
    for (const name of names) known.set(this.deps.tagIds.idFor(name), name);
    const result: string[] = [];
    for (const item of listOf(raw)) {
      const name = typeof item === 'number' || /^\d+$/.test(String(item)) ? known.get(Number(item)) : text(item);
      if (name) result.push(name);
    }
    return result;
  }

  private byPath(params: Record<string, string>): FormDefinition | undefined {
    const id = pathId(params.id);
    return id === undefined ? undefined : this.deps.store.forms.get(id);
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return typeof value === 'string' && value !== '' ? value.split(',') : [];
}

function alias(raw: string): string {
  return raw.toLowerCase().replace(/\s+/g, '_').replace(/[^a-z0-9_]/g, '').slice(0, 25);
}

/** `{"form":{…}}` as recorded (key order and the fields Mautic fills in). */
export function formJson(form: FormDefinition): Record<string, unknown> {
  return {
    isPublished: form.isPublished,
    dateAdded: mauticDate(form.createdAt),
    dateModified: mauticDate(form.updatedAt),
    createdBy: null,
    createdByUser: form.createdByUser,
    modifiedBy: null,
    modifiedByUser: form.createdByUser,
    id: form.id,
    name: form.name,
    alias: form.alias,
    category: null,
    description: form.description,
    cachedHtml: cachedHtml(form),
    publishUp: null,
    publishDown: null,
    fields: form.fields.map((field) => ({
      id: field.id,
      label: field.label,
      showLabel: field.showLabel,
      alias: field.alias,
      type: field.type,
      defaultValue: field.defaultValue,
      isRequired: field.isRequired,
      validationMessage: field.validationMessage,
      helpMessage: field.helpMessage,
      order: field.order,
      properties: Object.keys(field.properties).length ? field.properties : [],
      validation: [],
      parent: null,
      conditions: [],
      labelAttributes: null,
      inputAttributes: null,
      containerAttributes: null,
      leadField: field.mappedObject === 'contact' ? field.mappedField : null,
      saveResult: true,
      isAutoFill: false,
      mappedObject: field.mappedObject,
      mappedField: field.mappedField,
    })),
    actions: form.actions.map((action: FormAction) => ({
      id: action.id,
      name: action.name,
      description: action.description,
      type: action.type,
      order: action.order,
      properties: action.properties,
    })),
    template: null,
    inKioskMode: form.inKioskMode,
    renderStyle: false,
    formType: form.formType,
    postAction: form.postAction,
    postActionProperty: form.postActionProperty,
    noIndex: null,
    formAttributes: null,
    language: null,
  };
}

/** A small stand-in for Mautic's generated markup: one input per field, posting to /form/submit. */
function cachedHtml(form: FormDefinition): string {
  const escape = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const inputs = form.fields
    .map((field) =>
      field.type === 'button'
        ? `<button type="submit" name="mauticform[${escape(field.alias)}]">${escape(field.label)}</button>`
        : `<label>${escape(field.label)} <input type="${field.type === 'email' ? 'email' : field.type === 'hidden' ? 'hidden' : 'text'}" name="mauticform[${escape(field.alias)}]"${field.isRequired ? ' required' : ''}></label>`,
    )
    .join('');
  return (
    `<form method="post" action="/form/submit?formId=${form.id}" id="mauticform_${escape(form.alias)}">` +
    `${inputs}<input type="hidden" name="mauticform[formId]" value="${form.id}">` +
    `<input type="hidden" name="mauticform[formName]" value="${escape(form.alias)}"></form>`
  );
}
