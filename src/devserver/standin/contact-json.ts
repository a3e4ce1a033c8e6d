/**
 * A contact as Mautic 5.1's API serializes it (docs/protocol.md §10). The same contact comes out
 * in four shapes, depending on how the answering controller got and serialized it:
 * - `loaded`: read from the database (GET, edit, a `contacts/new` that updated): field
 *   descriptions with string ids, PHP-serialized properties, `object`, `is_fixed`, `default_value`;
 * - `fresh`: created by this very request (every 201): numeric field ids, parsed properties, no
 *   `object`/`is_fixed`/`default_value`, `utmtags` null;
 * - `sparse`: the Do-Not-Contact and UTM controllers, whose serializer drops every null: the
 *   profile's non-empty values are also repeated at the top level, and `fields.all` is absent;
 * - `minimal`: list items of `?minimal=1`: the entity's own keys and `fields`, nothing else.
 */
import type { MauticContact } from '../../protocol/rest.js';
import { DEFAULT_FIELDS, NUMERIC_FIELDS, type FieldDefinition } from './field-definitions.js';
import type { Contact } from './types.js';

export type ContactView = 'loaded' | 'fresh' | 'sparse' | 'minimal';

/** Stable ids for tag names, so `tags[].id` stays the same for the same tag. */
export class TagIds {
  private ids = new Map<string, number>();

  idFor(tag: string): number {
    const key = tag.toLowerCase();
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(key, id);
    }
    return id;
  }

  clear(): void {
    this.ids.clear();
  }
}

/** `2026-12-01T07:50:41+00:00`, as Mautic formats entity dates. */
function entityDate(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/\.\d{3}Z$/, '+00:00');
}

/** `2026-12-01 07:50:41`, as Mautic formats a datetime field's value. */
function fieldDate(iso: string | null): string | null {
  return iso === null ? null : iso.slice(0, 19).replace('T', ' ');
}

/** A field's value as `fields.all` carries it: strings, numbers for numeric fields, null when empty. */
function fieldValue(contact: Contact, definition: FieldDefinition): string | number | null {
  if (definition.alias === 'points') return contact.points;
  if (definition.alias === 'last_active') return fieldDate(contact.lastActive);
  const value = contact.fields[definition.alias];
  if (value === undefined) return null;
  return NUMERIC_FIELDS.has(definition.alias) && value !== '' ? Number(value) : value;
}

function describeField(definition: FieldDefinition, value: string | number | null, view: ContactView): Record<string, unknown> {
  const normalized = value ?? '';
  if (view === 'fresh') {
    const properties = Object.keys(definition.properties).length > 0 ? definition.properties : [];
    // A new entity's points are not loaded yet: Mautic shows the field empty and `all.points` 0.
    const shown = definition.alias === 'points' ? null : value;
    return {
      id: definition.id,
      group: definition.group,
      label: definition.label,
      alias: definition.alias,
      type: definition.type,
      properties,
      value: shown,
      normalizedValue: shown ?? '',
    };
  }
  return {
    id: String(definition.id),
    label: definition.label,
    alias: definition.alias,
    type: definition.type,
    group: definition.group,
    object: 'lead',
    is_fixed: definition.isFixed ? '1' : '0',
    properties: definition.serializedProperties,
    default_value: definition.defaultValue,
    value,
    normalizedValue: normalized,
  };
}

function fieldGroups(contact: Contact, fields: readonly FieldDefinition[], view: ContactView): Record<string, unknown> {
  const groups: Record<string, Record<string, unknown>> = {};
  const all: Record<string, unknown> = { id: String(contact.id) };
  for (const definition of fields) {
    const value = fieldValue(contact, definition);
    (groups[definition.group] ??= {})[definition.alias] = describeField(definition, value, view);
    all[definition.alias] = value;
  }
  // Empty groups are PHP empty arrays, so `[]` rather than `{}`.
  const group = (name: string): unknown => groups[name] ?? [];
  return { core: group('core'), social: group('social'), personal: group('personal'), professional: group('professional'), all };
}

function utmJson(contact: Contact): Record<string, unknown>[] {
  return contact.utm.map((utm, index) => ({
    id: index + 1,
    query: utm.query && Object.keys(utm.query).length > 0 ? utm.query : [],
    referer: utm.referer ?? null,
    remoteHost: utm.remoteHost ?? null,
    url: utm.url ?? null,
    userAgent: utm.userAgent ?? null,
    utmCampaign: utm.utm_campaign ?? null,
    utmContent: utm.utm_content ?? null,
    utmMedium: utm.utm_medium ?? null,
    utmSource: utm.utm_source ?? null,
    utmTerm: utm.utm_term ?? null,
  }));
}

const NO_IP_DETAILS = {
  city: '', region: '', zipcode: '', country: '', latitude: '', longitude: '', isp: '', organization: '', timezone: '', extra: '',
};

/** Removes nulls at every depth, as the DNC and UTM controllers' serializer does. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = dropNulls(item);
    return out;
  }
  return value;
}

export function contactJson(
  contact: Contact,
  tagIds: TagIds,
  view: ContactView = 'loaded',
  fields: readonly FieldDefinition[] = DEFAULT_FIELDS,
): MauticContact {
  const entity: Record<string, unknown> = {
    isPublished: true,
    dateAdded: entityDate(contact.createdAt),
    dateModified: view === 'fresh' ? null : entityDate(contact.modifiedAt),
    createdBy: null,
    createdByUser: contact.createdByUser,
    modifiedBy: null,
    modifiedByUser: view === 'fresh' ? null : contact.modifiedByUser,
    id: contact.id,
    points: contact.points,
    color: null,
  };
  const groups = fieldGroups(contact, fields, view);
  if (view === 'minimal') return { ...entity, fields: groups } as unknown as MauticContact;

  const full: Record<string, unknown> = {
    ...entity,
    fields: groups,
    lastActive: entityDate(contact.lastActive),
    owner: contact.owner === null ? null : { id: contact.owner },
    ipAddresses: contact.ipAddresses.map((ip, index) => ({ ipAddress: ip, id: index + 1, ipDetails: NO_IP_DETAILS })),
    tags: contact.tags.map((tag) => ({ id: tagIds.idFor(tag), tag, description: null })),
    utmtags: view === 'fresh' ? null : utmJson(contact),
    stage: null,
    dateIdentified: entityDate(contact.identifiedAt),
    preferredProfileImage: contact.createdBy === 'tracking' ? 'gravatar' : null,
    doNotContact: contact.doNotContact.map((entry, index) => ({
      id: index + 1,
      dateAdded: entityDate(entry.at),
      reason: entry.reason,
      comments: entry.comments,
      channel: entry.channel,
      channelId: null,
    })),
    frequencyRules: [],
  };
  if (view !== 'sparse') return full as unknown as MauticContact;

  // The sparse serializer also lists the profile's values next to the entity's own keys.
  const { all, ...withoutAll } = groups as { all: Record<string, unknown> };
  const profile: Record<string, unknown> = {};
  for (const [alias, value] of Object.entries(all)) {
    if (alias !== 'id' && alias !== 'points' && alias !== 'last_active' && value !== null) profile[alias] = value;
  }
  const { fields: _fields, ...rest } = full;
  const ordered = { ...pick(rest, ['isPublished', 'dateAdded', 'dateModified', 'createdBy', 'createdByUser', 'modifiedBy', 'modifiedByUser', 'id', 'points']), ...profile, fields: withoutAll, ...rest };
  return dropNulls(ordered) as MauticContact;
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}
