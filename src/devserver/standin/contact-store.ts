/**
 * Contacts and devices, with Mautic's rules for writing fields, tags, companies and merges.
 * Tracking and the REST API both go through here, so their rules cannot drift apart.
 */
import type { ChangeBus } from './recorder.js';
import type { Contact, DoNotContactRecord, UtmRecord } from './types.js';

/** Company fields a hit may carry (PROTOCOL §6: not gated by "publicly updatable"). */
export const COMPANY_FIELDS = [
  'company',
  'companyemail',
  'companywebsite',
  'companyphone',
  'companyaddress1',
  'companyaddress2',
  'companycity',
  'companystate',
  'companyzipcode',
  'companycountry',
  'companyindustry',
  'companydescription',
  'companynumber_of_employees',
  'companyannual_revenue',
  'companyfax',
] as const;

export const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const;

export type FieldValue = string | number | boolean | null | undefined;

/** Mautic treats '', null and (for the API) 0 as "blank": it never overwrites with them by default. */
export function isBlank(value: FieldValue, zeroIsBlank: boolean): boolean {
  if (value === null || value === undefined) return true;
  const text = String(value).trim();
  if (text === '') return true;
  return zeroIsBlank && (value === 0 || text === '0');
}

/** The name Mautic gives the anonymous user of a visitor's request (first and last name, both empty). */
export const ANONYMOUS_USER = ' ';

export class ContactStore {
  private contacts = new Map<number, Contact>();
  private deviceOwner = new Map<string, number>();
  private nextId = 1;
  /** Which request created each contact: changes in that same request are not "modifications". */
  private createdInRequest = new Map<number, number>();
  private request = 0;
  private actor: string = ANONYMOUS_USER;

  constructor(
    private readonly bus: ChangeBus,
    private readonly now: () => string,
  ) {}

  /** Called by the server for every request: later changes belong to this request, by a visitor until `actAs`. */
  beginRequest(): void {
    this.request += 1;
    this.actor = ANONYMOUS_USER;
  }

  /** The authenticated API user of the current request. */
  actAs(user: string): void {
    this.actor = user;
  }

  /** The API user of the current request, or null for a visitor's request. */
  currentUser(): string | null {
    return this.actor === ANONYMOUS_USER ? null : this.actor;
  }

  create(createdBy: Contact['createdBy']): Contact {
    const at = this.now();
    const contact: Contact = {
      id: this.nextId++,
      createdAt: at,
      updatedAt: at,
      modifiedAt: null,
      createdByUser: this.currentUser(),
      modifiedByUser: null,
      identifiedAt: null,
      lastActive: null,
      fields: {},
      tags: [],
      company: {},
      utm: [],
      deviceIds: [],
      ipAddresses: [],
      mergedFrom: [],
      points: 0,
      segments: [],
      doNotContact: [],
      owner: null,
      createdBy,
    };
    this.contacts.set(contact.id, contact);
    this.createdInRequest.set(contact.id, this.request);
    this.bus.emit({ type: 'contact.created', contact: structuredClone(contact) });
    return contact;
  }

  get(id: number): Contact | undefined {
    return this.contacts.get(id);
  }

  /** Copies, in id order. */
  snapshot(): Contact[] {
    return [...this.contacts.values()].map((contact) => structuredClone(contact));
  }

  /** The newest contact whose `field` equals `value` (case-insensitive, like MySQL's collation). */
  findNewestByField(field: string, value: string, excludeId?: number): Contact | undefined {
    const wanted = value.trim().toLowerCase();
    if (wanted === '') return undefined;
    let found: Contact | undefined;
    for (const contact of this.contacts.values()) {
      if (contact.id === excludeId) continue;
      if ((contact.fields[field] ?? '').trim().toLowerCase() === wanted) {
        if (!found || contact.id > found.id) found = contact;
      }
    }
    return found;
  }

  findByDevice(deviceId: string): Contact | undefined {
    const owner = this.deviceOwner.get(deviceId);
    return owner === undefined ? undefined : this.contacts.get(owner);
  }

  hasDevice(deviceId: string): boolean {
    return this.deviceOwner.has(deviceId);
  }

  addDevice(contact: Contact, deviceId: string): void {
    if (this.deviceOwner.has(deviceId)) return;
    this.deviceOwner.set(deviceId, contact.id);
    contact.deviceIds.push(deviceId);
  }

  /**
   * Writes fields. `overwriteWithBlank` false (Mautic's default) skips blank values; true clears.
   * Tracking passes `zeroIsBlank` false: only the REST API treats 0 as blank.
   */
  writeFields(
    contact: Contact,
    values: Record<string, FieldValue>,
    options: { overwriteWithBlank: boolean; zeroIsBlank: boolean },
  ): void {
    for (const [alias, value] of Object.entries(values)) {
      if (isBlank(value, options.zeroIsBlank)) {
        if (options.overwriteWithBlank) delete contact.fields[alias];
        continue;
      }
      contact.fields[alias] = String(value).trim();
    }
  }

  /** `'a,-b'` or `['a','-b']`: adds `a`, removes `b`. */
  applyTags(contact: Contact, tags: string | string[]): void {
    const list = Array.isArray(tags) ? tags : tags.split(',');
    for (const raw of list) {
      const tag = String(raw).trim();
      if (tag === '' || tag === '-') continue;
      if (tag.startsWith('-')) {
        const name = tag.slice(1).trim();
        contact.tags = contact.tags.filter((existing) => existing.toLowerCase() !== name.toLowerCase());
      } else if (!contact.tags.some((existing) => existing.toLowerCase() === tag.toLowerCase())) {
        contact.tags.push(tag);
      }
    }
  }

  /** Company fields from a hit; the company name also becomes the contact's `company` field. */
  applyCompany(contact: Contact, values: Record<string, string>): void {
    for (const key of COMPANY_FIELDS) {
      const value = values[key];
      if (value === undefined || value.trim() === '') continue;
      contact.company[key] = value.trim();
    }
    const name = values.company?.trim();
    if (name) contact.fields.company = name;
  }

  addUtm(contact: Contact, utm: Omit<UtmRecord, 'at'>): void {
    contact.utm.push({ at: this.now(), ...utm });
  }

  addIp(contact: Contact, ip: string): void {
    if (ip && !contact.ipAddresses.includes(ip)) contact.ipAddresses.push(ip);
  }

  addDoNotContact(contact: Contact, record: Omit<DoNotContactRecord, 'at'>): void {
    contact.doNotContact = contact.doNotContact.filter((entry) => entry.channel !== record.channel);
    contact.doNotContact.push({ ...record, at: this.now() });
  }

  /** Replaces all fields (PUT). */
  replaceFields(contact: Contact, values: Record<string, FieldValue>): void {
    contact.fields = {};
    this.writeFields(contact, values, { overwriteWithBlank: false, zeroIsBlank: false });
  }

  /**
   * Merges `loser` into `winner` and deletes `loser`: the winner keeps its own non-empty fields and
   * takes the loser's where it has none; tags, devices, UTM, IPs, segments, DNC and points move over.
   */
  merge(winner: Contact, loser: Contact): void {
    for (const [alias, value] of Object.entries(loser.fields)) {
      if (!winner.fields[alias]) winner.fields[alias] = value;
    }
    for (const [key, value] of Object.entries(loser.company)) {
      if (!winner.company[key]) winner.company[key] = value;
    }
    this.applyTags(winner, loser.tags);
    for (const deviceId of loser.deviceIds) {
      this.deviceOwner.set(deviceId, winner.id);
      if (!winner.deviceIds.includes(deviceId)) winner.deviceIds.push(deviceId);
    }
    winner.utm.push(...loser.utm);
    for (const ip of loser.ipAddresses) this.addIp(winner, ip);
    for (const segment of loser.segments) if (!winner.segments.includes(segment)) winner.segments.push(segment);
    for (const dnc of loser.doNotContact) {
      if (!winner.doNotContact.some((entry) => entry.channel === dnc.channel)) winner.doNotContact.push(dnc);
    }
    winner.points += loser.points;
    if (loser.lastActive && (!winner.lastActive || loser.lastActive > winner.lastActive)) {
      winner.lastActive = loser.lastActive;
    }
    winner.owner ??= loser.owner;
    winner.mergedFrom.push(...loser.mergedFrom, loser.id);
    this.contacts.delete(loser.id);
    winner.updatedAt = this.now();
    this.bus.emit({ type: 'contact.merged', contact: structuredClone(winner), mergedId: loser.id });
    this.bus.emit({ type: 'contact.deleted', contactId: loser.id });
  }

  /** Marks a contact changed and tells subscribers. */
  changed(contact: Contact): void {
    const at = this.now();
    contact.updatedAt = at;
    if (this.createdInRequest.get(contact.id) !== this.request) {
      contact.modifiedAt = at;
      contact.modifiedByUser = this.actor;
    }
    if (contact.identifiedAt === null && contact.fields.email) contact.identifiedAt = at;
    this.bus.emit({ type: 'contact.updated', contact: structuredClone(contact) });
  }

  /** Forgets every contact and device; ids start at 1 again (a fresh database, deterministic tests). */
  clear(): void {
    this.contacts.clear();
    this.deviceOwner.clear();
    this.createdInRequest.clear();
    this.nextId = 1;
  }
}
