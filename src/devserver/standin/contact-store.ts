/**
 * Contacts, with Mautic's rules for writing fields, tags, companies and merges, and the stores that
 * hang off them: devices, contact fields and forms. Tracking, the REST API and form posts all go
 * through here, so their rules cannot drift apart.
 */
import { DeviceStore } from './devices.js';
import { FieldRegistry } from './fields.js';
import { FormStore } from './forms.js';
import type { ChangeBus } from './recorder.js';
import type { Contact, Device, DoNotContactRecord, FormSubmissionRecord, MergeRecord, UtmRecord } from './types.js';

/** Company fields a hit may carry (docs/protocol.md §6: not gated by "publicly updatable"). */
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

/** A points change, for the contact's activity (`point.gained` events). */
export interface PointChange {
  id: number;
  contactId: number;
  delta: number;
  /** Mautic's event name, e.g. 'add (+)', 'multiply (x)', 'Manual', or a form action's name. */
  eventName: string;
  /** 'API' or 'Form'. */
  actionName: string;
  at: string;
}

export class ContactStore {
  readonly devices: DeviceStore;
  readonly fields: FieldRegistry;
  readonly forms: FormStore;
  private contacts = new Map<number, Contact>();
  /** Merged-away id → the id it was merged into (Mautic's merge records). */
  private mergedInto = new Map<number, number>();
  private mergeList: MergeRecord[] = [];
  private pointLog: PointChange[] = [];
  /** Points as last logged, so a change made without {@link changePoints} is still logged. */
  private loggedPoints = new Map<number, number>();
  private nextId = 1;
  /** Which request created each contact: changes in that same request are not "modifications". */
  private createdInRequest = new Map<number, number>();
  private request = 0;
  private actor: string = ANONYMOUS_USER;

  constructor(
    private readonly bus: ChangeBus,
    private readonly now: () => string,
    fields?: FieldRegistry,
  ) {
    this.devices = new DeviceStore(now);
    this.fields = fields ?? new FieldRegistry(['email'], [], now);
    this.forms = new FormStore(now);
    // A device's client info comes from the first tracked hit that used it, so the tracking code
    // needs no User-Agent plumbing.
    bus.subscribe((change) => {
      if (change.type !== 'hit' || !change.hit.deviceId) return;
      const device = this.devices.byTrackingId(change.hit.deviceId);
      if (device && device.clientInfo === null) this.devices.describe(device, change.hit.userAgent);
    });
  }

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

  /** The contact with exactly this id (merged-away ids give undefined; see {@link resolve}). */
  get(id: number): Contact | undefined {
    return this.contacts.get(id);
  }

  /** Like Mautic's contact lookup: a merged-away id answers the contact it was merged into. */
  resolve(id: number): Contact | undefined {
    let current = id;
    for (let hops = 0; hops < 1000; hops += 1) {
      const contact = this.contacts.get(current);
      if (contact) return contact;
      const next = this.mergedInto.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  /** Copies, in id order. */
  snapshot(): Contact[] {
    return [...this.contacts.values()].map((contact) => structuredClone(contact));
  }

  /** Live contacts in id order (not copies). */
  all(): Contact[] {
    return [...this.contacts.values()];
  }

  /** Deletes a contact and its devices (`DELETE /api/contacts/{id}/delete`). */
  delete(contact: Contact): void {
    for (const device of this.devices.forContact(contact.id)) this.devices.remove(device);
    this.contacts.delete(contact.id);
    this.bus.emit({ type: 'contact.deleted', contactId: contact.id });
  }

  /** Every contact whose `field` equals `value` (case-insensitive, like MySQL's collation), oldest first. */
  findAllByField(field: string, value: string, excludeId?: number): Contact[] {
    const wanted = value.trim().toLowerCase();
    if (wanted === '') return [];
    return this.all().filter(
      (contact) => contact.id !== excludeId && (contact.fields[field] ?? '').trim().toLowerCase() === wanted,
    );
  }

  /** The newest contact whose `field` equals `value` (case-insensitive, like MySQL's collation). */
  findNewestByField(field: string, value: string, excludeId?: number): Contact | undefined {
    return this.findAllByField(field, value, excludeId).at(-1);
  }

  findByDevice(deviceId: string): Contact | undefined {
    const device = this.devices.byTrackingId(deviceId);
    return device === undefined ? undefined : this.contacts.get(device.contactId);
  }

  hasDevice(deviceId: string): boolean {
    return this.devices.byTrackingId(deviceId) !== undefined;
  }

  /** Gives `contact` a device with this tracking id, unless the tracking id is known already. */
  addDevice(contact: Contact, deviceId: string, userAgent?: string): void {
    if (this.devices.byTrackingId(deviceId)) return;
    const device = this.devices.create(contact.id, deviceId, userAgent);
    contact.deviceIds.push(deviceId);
    this.bus.emit({ type: 'device', device: structuredClone(device) });
  }

  /** A device made through the API (no tracking id unless given). */
  createDevice(contact: Contact, details: Parameters<DeviceStore['create']>[3], trackingId: string | null = null): Device {
    const device = this.devices.create(contact.id, trackingId, undefined, details);
    if (trackingId !== null) contact.deviceIds.push(trackingId);
    this.bus.emit({ type: 'device', device: structuredClone(device) });
    return device;
  }

  /** Points a device at another contact: the browser's next hits count for `to` (docs/protocol.md §10.9). */
  reassignDevice(device: Device, to: Contact): void {
    if (device.contactId !== to.id) {
      const from = this.contacts.get(device.contactId);
      if (from && device.trackingId !== null) from.deviceIds = from.deviceIds.filter((id) => id !== device.trackingId);
      device.contactId = to.id;
      if (device.trackingId !== null && !to.deviceIds.includes(device.trackingId)) to.deviceIds.push(device.trackingId);
    }
    this.bus.emit({ type: 'device', device: structuredClone(device) });
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
   * Merges `loser` into `winner` and deletes `loser`, as Mautic 5.1's contact merger does: for each
   * field the more recently modified contact's non-empty value wins, whichever survives (so the
   * freshly active loser's values overwrite the winner's, as docs/protocol.md §10.18 observes); tags, IPs, segments and devices
   * join the winner, points add up. The loser's UTM rows, Do-Not-Contact entries and company link are
   * lost (docs/protocol.md §10.18). Moving hits is the caller's job (it owns the recorder).
   */
  merge(winner: Contact, loser: Contact, via: MergeRecord['via'], formId: number | null): void {
    // Mautic compares dateModified, or dateAdded for a contact never modified since.
    const loserIsNewer = (loser.modifiedAt ?? loser.createdAt) > (winner.modifiedAt ?? winner.createdAt);
    for (const [alias, value] of Object.entries(loser.fields)) {
      if (!winner.fields[alias] || loserIsNewer) winner.fields[alias] = value;
    }
    this.applyTags(winner, loser.tags);
    for (const device of this.devices.forContact(loser.id)) this.reassignDevice(device, winner);
    for (const ip of loser.ipAddresses) this.addIp(winner, ip);
    for (const segment of loser.segments) if (!winner.segments.includes(segment)) winner.segments.push(segment);
    winner.points += loser.points;
    if (loser.lastActive && (!winner.lastActive || loser.lastActive > winner.lastActive)) {
      winner.lastActive = loser.lastActive;
    }
    winner.owner ??= loser.owner;
    winner.mergedFrom.push(...loser.mergedFrom, loser.id);
    for (const change of this.pointLog) if (change.contactId === loser.id) change.contactId = winner.id;
    // The loser's logged changes moved with it; the sum is not a new change.
    this.loggedPoints.set(winner.id, (this.loggedPoints.get(winner.id) ?? 0) + (this.loggedPoints.get(loser.id) ?? 0));
    this.forms.reassignSubmissions(loser.id, winner.id);
    this.contacts.delete(loser.id);
    this.mergedInto.set(loser.id, winner.id);
    winner.updatedAt = this.now();
    this.mergeList.push({ at: winner.updatedAt, winnerId: winner.id, loserId: loser.id, via, formId });
    this.bus.emit({ type: 'contact.merged', contact: structuredClone(winner), mergedId: loser.id });
    this.bus.emit({ type: 'contact.deleted', contactId: loser.id });
  }

  /** Keeps a form post for the dashboard and the contact's activity, and tells subscribers. */
  recordSubmission(submission: Omit<FormSubmissionRecord, 'seq'>): FormSubmissionRecord {
    const recorded = this.forms.addSubmission(submission);
    this.bus.emit({ type: 'form.submitted', submission: structuredClone(recorded) });
    return recorded;
  }

  get merges(): MergeRecord[] {
    return structuredClone(this.mergeList);
  }

  /**
   * Changes points and logs it for the contact's activity. `operator` is Mautic's: plus, minus,
   * times, divide (integer division, like its points action).
   */
  changePoints(
    contact: Contact,
    operator: 'plus' | 'minus' | 'times' | 'divide',
    amount: number,
    source: { eventName?: string; actionName: string },
  ): void {
    const before = contact.points;
    if (operator === 'plus') contact.points += amount;
    else if (operator === 'minus') contact.points -= amount;
    else if (operator === 'times') contact.points *= amount;
    else if (amount !== 0) contact.points = Math.trunc(contact.points / amount);
    const names = { plus: 'add (+)', minus: 'subtract (-)', times: 'multiply (x)', divide: 'divide (/)' };
    this.logPoints(contact, contact.points - before, source.eventName ?? names[operator], source.actionName);
  }

  private logPoints(contact: Contact, delta: number, eventName: string, actionName: string): void {
    this.pointLog.push({ id: this.pointLog.length + 1, contactId: contact.id, delta, eventName, actionName, at: this.now() });
    this.loggedPoints.set(contact.id, contact.points);
  }

  pointChanges(contactId: number): PointChange[] {
    return this.pointLog.filter((change) => change.contactId === contactId);
  }

  /** Marks a contact changed and tells subscribers. */
  changed(contact: Contact): void {
    // Points changed by code that does not log them (the points endpoint, an edit): log them here.
    const logged = this.loggedPoints.get(contact.id) ?? 0;
    if (contact.points !== logged) {
      const delta = contact.points - logged;
      this.logPoints(contact, delta, delta >= 0 ? 'add (+)' : 'subtract (-)', 'API');
    }
    const at = this.now();
    contact.updatedAt = at;
    if (this.createdInRequest.get(contact.id) !== this.request) {
      contact.modifiedAt = at;
      contact.modifiedByUser = this.actor;
    }
    if (contact.identifiedAt === null && contact.fields.email) contact.identifiedAt = at;
    this.bus.emit({ type: 'contact.updated', contact: structuredClone(contact) });
  }

  /** Forgets every contact, device, custom field and form; ids start at 1 again (a fresh database). */
  clear(): void {
    this.contacts.clear();
    this.mergedInto.clear();
    this.mergeList = [];
    this.pointLog = [];
    this.loggedPoints.clear();
    this.devices.clear();
    this.fields.clear();
    this.forms.clear();
    this.createdInRequest.clear();
    this.nextId = 1;
  }
}
