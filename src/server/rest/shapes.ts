/**
 * The typed shapes of Mautic 5.1's REST answers (as recorded in `mautic-5.1-exchanges/`) and the
 * readers that turn an untrusted JSON body into them. Readers never throw: a missing or odd value
 * becomes a neutral one (null, '', []), and the client decides whether that is an error.
 */
import type { MauticContact } from '../../protocol/rest.js';
import { parseErrorBody } from './errors.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Mautic lists come as arrays or as objects keyed by id, depending on the entity. */
export function listEntries(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value)) return Object.values(value);
  return [];
}

/** Ids arrive as numbers or, from stats tables, as digit strings. */
export function toId(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** `total` is a string in list answers (`"total":"1"`), a number in others (`/api/devices`). */
export function toCount(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function toContact(value: unknown): MauticContact | null {
  if (!isRecord(value) || typeof value.id !== 'number' || !Number.isSafeInteger(value.id) || value.id < 1) return null;
  const fields = isRecord(value.fields) ? value.fields : {};
  // `minimal=1` and batch answers keep `fields.all`; a few answers only have the groups.
  const all = isRecord(fields.all) ? fields.all : {};
  return { ...value, id: value.id, fields: { ...fields, all } } as MauticContact;
}

/** A custom contact field, as `/api/fields/contact` returns it (what we read of it). */
export interface MauticField {
  id: number;
  alias: string;
  type: string;
  isUniqueIdentifier: boolean;
  isPublished: boolean;
}

export function toField(value: unknown): MauticField | null {
  if (!isRecord(value)) return null;
  const id = toId(value.id);
  if (id === null || typeof value.alias !== 'string') return null;
  return {
    id,
    alias: value.alias,
    type: text(value.type),
    isUniqueIdentifier: value.isUniqueIdentifier === true || value.isUniqueIdentifer === true,
    isPublished: value.isPublished !== false,
  };
}

/** A form field, reduced to what we read. */
export interface MauticFormField {
  id?: number;
  alias: string;
  type: string;
  mappedObject?: string | null;
  mappedField?: string | null;
}

export interface MauticForm {
  id: number;
  name: string;
  alias: string;
  formType: string;
  isPublished: boolean;
  fields: MauticFormField[];
}

export function toForm(value: unknown): MauticForm | null {
  if (!isRecord(value)) return null;
  const id = toId(value.id);
  if (id === null) return null;
  const fields = listEntries(value.fields)
    .filter(isRecord)
    .map((f) => {
      const fieldId = toId(f.id);
      return {
        ...(fieldId !== null ? { id: fieldId } : {}),
        alias: text(f.alias),
        type: text(f.type),
        mappedObject: typeof f.mappedObject === 'string' ? f.mappedObject : null,
        mappedField: typeof f.mappedField === 'string' ? f.mappedField : typeof f.leadField === 'string' ? f.leadField : null,
      };
    });
  return { id, name: text(value.name), alias: text(value.alias), formType: text(value.formType), isPublished: value.isPublished !== false, fields };
}

/**
 * A tracked device, as `/api/devices` and `/api/contacts/{id}/devices` return it
 * (api_devices_get, api_contacts_devices). Neither exposes the tracking id (the cookie value):
 * only `/api/stats/lead_devices` does (`MauticDeviceStat`).
 */
export interface MauticDevice {
  id: number;
  /** The owning contact's id; null where Mautic sends `lead: {}` (the contact's own device list). */
  contactId: number | null;
  /** `desktop`, `smartphone`, `tablet`, … */
  device: string;
  deviceBrand: string;
  deviceModel: string;
  deviceOsName: string;
  deviceOsVersion: string;
  /** Browser: `{ type: 'browser', name: 'Chrome', version: '120.0', … }`. */
  clientInfo: Record<string, string>;
}

export function toDevice(value: unknown): MauticDevice | null {
  if (!isRecord(value)) return null;
  const id = toId(value.id);
  if (id === null) return null;
  const info: Record<string, string> = {};
  if (isRecord(value.clientInfo)) for (const [k, v] of Object.entries(value.clientInfo)) if (typeof v === 'string') info[k] = v;
  return {
    id,
    contactId: isRecord(value.lead) ? toId(value.lead.id) : toId(value.lead),
    device: text(value.device),
    deviceBrand: text(value.deviceBrand),
    deviceModel: text(value.deviceModel),
    deviceOsName: text(value.deviceOsName),
    deviceOsVersion: text(value.deviceOsVersion),
    clientInfo: info,
  };
}

/** A device as `GET /api/stats/lead_devices` lists it (ids come as strings there). */
export interface MauticDeviceStat {
  /** The device's id, for `/api/devices/{id}`. */
  id: number;
  /** The contact the device belongs to. */
  contactId: number | null;
  /** The `mautic_device_id` cookie value. */
  trackingId: string;
}

/** One item's outcome in a batch answer (api_contacts_batch_new, api_contacts_batch_edit). */
export type BatchItemResult =
  | { ok: true; status: number; contact: MauticContact; created: boolean }
  | { ok: false; status: number; message: string; details: Record<string, string[]> };

/**
 * `{contacts:[…], statusCodes:[201,200,400], errors:{"2":{code,message,details}}}`: `contacts`
 * holds the successes only, in order; `statusCodes` and `errors` are per input index.
 */
export function toBatchResults(body: unknown, count: number): BatchItemResult[] | null {
  if (!isRecord(body) || !Array.isArray(body.statusCodes)) return null;
  const contacts = listEntries(body.contacts).map(toContact);
  const errors = isRecord(body.errors) ? body.errors : {};
  const results: BatchItemResult[] = [];
  let next = 0;
  for (let i = 0; i < count; i++) {
    const status = typeof body.statusCodes[i] === 'number' ? (body.statusCodes[i] as number) : 0;
    const error = errors[String(i)];
    if (status >= 200 && status < 300 && error === undefined) {
      const contact = contacts[next++];
      if (!contact) return null;
      results.push({ ok: true, status, contact, created: status === 201 });
    } else {
      const parsed = parseErrorBody({ errors: [error] });
      results.push({ ok: false, status: status || (parsed?.code ?? 0), message: parsed?.messages[0] ?? `HTTP ${status}`, details: parsed?.details ?? {} });
    }
  }
  return results;
}
