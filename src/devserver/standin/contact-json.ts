/**
 * A contact in the shape Mautic's API returns (`{"contact":{…}}`), reduced to what clients read:
 * `fields.all` flattened by alias, `fields.core` with values, `tags` as `{id, tag}`, and so on.
 */
import type { MauticContact } from '../../protocol/rest.js';
import type { Contact } from './types.js';

/** Mautic's core contact fields; `fields.all` lists them with null when empty, like Mautic. */
const CORE_FIELDS = [
  'title', 'firstname', 'lastname', 'company', 'position', 'email', 'mobile', 'phone', 'points', 'fax',
  'address1', 'address2', 'city', 'state', 'zipcode', 'country', 'preferred_locale', 'timezone',
  'last_active', 'attribution_date', 'attribution', 'website', 'facebook', 'foursquare', 'instagram',
  'linkedin', 'skype', 'twitter',
] as const;

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

export function contactJson(contact: Contact, tagIds: TagIds): MauticContact {
  const all: Record<string, unknown> = { id: contact.id };
  for (const alias of CORE_FIELDS) all[alias] = null;
  for (const [alias, value] of Object.entries(contact.fields)) all[alias] = value;
  all.points = contact.points;
  all.last_active = contact.lastActive;

  const core: Record<string, unknown> = {};
  for (const [alias, value] of Object.entries(all)) {
    if (alias === 'id') continue;
    core[alias] = { id: null, label: alias, alias, type: 'text', group: 'core', value, normalizedValue: value };
  }

  const ipAddresses: Record<string, unknown> = {};
  for (const ip of contact.ipAddresses) ipAddresses[ip] = { ipAddress: ip, ipDetails: [] };

  return {
    id: contact.id,
    isPublished: true,
    dateAdded: contact.createdAt,
    dateModified: contact.updatedAt,
    createdBy: null,
    createdByUser: null,
    modifiedBy: null,
    modifiedByUser: null,
    points: contact.points,
    color: null,
    lastActive: contact.lastActive,
    owner: contact.owner === null ? null : { id: contact.owner },
    ipAddresses,
    dateIdentified: contact.fields.email ? contact.updatedAt : null,
    preferredProfileImage: 'gravatar',
    stage: null,
    frequencyRules: [],
    doNotContact: contact.doNotContact.map((entry, index) => ({
      id: index + 1,
      reason: entry.reason,
      comments: entry.comments,
      channel: entry.channel,
      channelId: null,
    })),
    utmtags: contact.utm.map((utm, index) => ({
      id: index + 1,
      dateAdded: utm.at,
      utmSource: utm.utm_source ?? null,
      utmMedium: utm.utm_medium ?? null,
      utmCampaign: utm.utm_campaign ?? null,
      utmContent: utm.utm_content ?? null,
      utmTerm: utm.utm_term ?? null,
      url: utm.url ?? null,
      referer: utm.referer ?? null,
    })),
    tags: contact.tags.map((tag) => ({ id: tagIds.idFor(tag), tag })),
    fields: { core, social: {}, personal: {}, professional: {}, all },
  };
}
