/**
 * Devices over REST (docs/protocol.md §10.9): `GET /api/devices[/{id}]`, `GET /api/contacts/{id}/devices`,
 * `POST /api/devices/new`, `PATCH|PUT /api/devices/{id}/edit` (a `contact` reassigns the device, so
 * the browser's next hits count for that contact), `DELETE /api/devices/{id}/delete`, and
 * `GET /api/stats/lead_devices` with `where` filters — the only way to find a device by its tracking
 * id, since `/api/devices` does not expose tracking ids.
 */
import { contactJson } from './contact-json.js';
import type { DeviceDetails } from './devices.js';
import { mysqlDateTime, phpSerialize } from './php-values.js';
import { errorReply, jsonReply, type RequestContext } from './reply.js';
import {
  contactById,
  notFound,
  pathId,
  requireObject,
  ValidationError,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';
import type { Contact, Device } from './types.js';

/** Contact columns the device serializer flattens into `lead` (recorded order). */
const LEAD_COLUMNS = [
  'title', 'firstname', 'lastname', 'company', 'position', 'email', 'phone', 'mobile', 'address1', 'address2',
  'city', 'state', 'zipcode', 'timezone', 'country',
] as const;

const DETAIL_KEYS = [
  'device', 'deviceBrand', 'deviceModel', 'deviceOsName', 'deviceOsShortName', 'deviceOsVersion', 'deviceOsPlatform',
] as const;

const STATS_DEFAULT_LIMIT = 100;

export function registerDeviceRoutes(router: ApiRouter, deps: RestDeps): void {
  const devices = new DeviceResource(deps);
  router
    .add('GET', '/api/devices', { operation: 'device.list', handler: () => devices.list() })
    .add('POST', '/api/devices/new', { operation: 'device.new', handler: (ctx, _p, data) => devices.create(ctx, data) })
    .add('GET', '/api/devices/{id}', { operation: 'device.get', handler: (_ctx, p) => devices.get(p) })
    .add('PATCH', '/api/devices/{id}/edit', { operation: 'device.edit', handler: (_ctx, p, data) => devices.edit(p, data) })
    .add('PUT', '/api/devices/{id}/edit', { operation: 'device.edit', handler: (_ctx, p, data) => devices.edit(p, data) })
    .add('DELETE', '/api/devices/{id}/delete', { operation: 'device.delete', handler: (_ctx, p) => devices.delete(p) })
    .add('GET', '/api/contacts/{id}/devices', { operation: 'contact.devices', handler: (_ctx, p) => devices.ofContact(p) })
    .add('GET', '/api/stats/lead_devices', { operation: 'stats.lead_devices', handler: (ctx) => devices.stats(ctx) });
}

class DeviceResource {
  constructor(private readonly deps: RestDeps) {}

  list(): HandlerResult {
    const all = this.deps.store.devices.list();
    return { reply: jsonReply(200, { total: all.length, devices: all.map((device) => this.json(device, 'lazy')) }), contactId: null };
  }

  get(params: Record<string, string>): HandlerResult {
    const device = this.byPath(params);
    if (!device) return notFound();
    return { reply: jsonReply(200, { device: this.json(device, 'lazy') }), contactId: device.contactId };
  }

  /** The contact's own devices; `lead` is left empty there, as Mautic does. */
  ofContact(params: Record<string, string>): HandlerResult {
    const contact = contactById(this.deps.store, params.id);
    if (!contact) return notFound();
    const devices = this.deps.store.devices.forContact(contact.id);
    return {
      reply: jsonReply(200, { total: devices.length, devices: devices.map((device) => this.json(device, 'none')) }),
      contactId: contact.id,
    };
  }

  create(ctx: RequestContext, data: unknown): HandlerResult {
    const payload = requireObject(data);
    if (payload.contact === undefined || payload.contact === null || payload.contact === '') {
      return { reply: errorReply(400, 'contact ID is mandatory'), contactId: null };
    }
    const contact = contactById(this.deps.store, String(payload.contact));
    if (!contact) return notFound();
    const device = this.deps.store.createDevice(contact, details(payload));
    return {
      reply: jsonReply(201, { device: this.json(device, 'loaded') }, { Location: `${ctx.origin}/api/devices/${device.id}` }),
      contactId: contact.id,
    };
  }

  edit(params: Record<string, string>, data: unknown): HandlerResult {
    const device = this.byPath(params);
    if (!device) return notFound();
    const payload = requireObject(data);
    let target: Contact | undefined;
    if (payload.contact !== undefined && payload.contact !== null && payload.contact !== '') {
      target = contactById(this.deps.store, String(payload.contact));
      if (!target) return notFound();
    }
    this.deps.store.devices.update(device, details(payload));
    const owner = target ?? this.deps.store.get(device.contactId);
    if (owner) this.deps.store.reassignDevice(device, owner);
    return { reply: jsonReply(200, { device: this.json(device, 'loaded') }), contactId: device.contactId };
  }

  delete(params: Record<string, string>): HandlerResult {
    const device = this.byPath(params);
    if (!device) return notFound();
    const body = { device: this.json(device, 'lazy') };
    const contact = this.deps.store.get(device.contactId);
    if (contact && device.trackingId !== null) contact.deviceIds = contact.deviceIds.filter((id) => id !== device.trackingId);
    this.deps.store.devices.remove(device);
    return { reply: jsonReply(200, body), contactId: device.contactId };
  }

  /**
   * `GET /api/stats/lead_devices?where[0][col]=tracking_id&where[0][expr]=eq&where[0][val]=…`:
   * rows as the database has them (every value a string), `total` a string.
   */
  stats(ctx: RequestContext): HandlerResult {
    const query = new URLSearchParams(ctx.rawQuery);
    const filters = whereFilters(query);
    for (const filter of filters) {
      if (!STATS_COLUMNS.includes(filter.col)) {
        throw new ValidationError({ where: [`${filter.col} is not a column of lead_devices.`] });
      }
    }
    const rows = this.deps.store.devices.list().map(statsRow);
    const matching = rows.filter((row) => filters.every((filter) => filter.test(row[filter.col] ?? null)));
    const start = intParam(query.get('start'), 0);
    const limit = intParam(query.get('limit'), STATS_DEFAULT_LIMIT) || STATS_DEFAULT_LIMIT;
    return {
      reply: jsonReply(200, { total: String(matching.length), stats: matching.slice(start, start + limit) }),
      contactId: null,
    };
  }

  private byPath(params: Record<string, string>): Device | undefined {
    const id = pathId(params.id);
    return id === undefined ? undefined : this.deps.store.devices.get(id);
  }

  private json(device: Device, lead: 'none' | 'lazy' | 'loaded'): Record<string, unknown> {
    const contact = this.deps.store.get(device.contactId);
    return {
      id: device.id,
      lead: lead !== 'none' && contact ? this.leadJson(contact, lead === 'loaded') : {},
      clientInfo: device.clientInfo ?? [],
      device: device.device,
      deviceBrand: device.deviceBrand,
      deviceModel: device.deviceModel,
      deviceOsName: device.deviceOsName,
      deviceOsShortName: device.deviceOsShortName,
      deviceOsVersion: device.deviceOsVersion,
      deviceOsPlatform: device.deviceOsPlatform,
    };
  }

  /**
   * The contact as the device serializer flattens it: core columns at the top level. `fields` is
   * filled only when the controller loaded the contact itself (new, edit: recorded), else `[]`.
   */
  private leadJson(contact: Contact, loaded: boolean): Record<string, unknown> {
    const full = contactJson(contact, this.deps.tagIds, 'loaded', this.deps.store.fields.list()) as unknown as Record<string, unknown>;
    const all = (full.fields as { all?: Record<string, unknown> } | undefined)?.all ?? {};
    const lead: Record<string, unknown> = {
      createdByUser: full.createdByUser ?? null,
      modifiedByUser: full.modifiedByUser ?? null,
      id: contact.id,
      points: contact.points,
      color: null,
    };
    for (const column of LEAD_COLUMNS) lead[column] = all[column] ?? null;
    // Its field groups, without `all` (the flattened values are the top-level columns here).
    const { all: _all, ...groups } = (full.fields as Record<string, unknown> | undefined) ?? {};
    lead.fields = loaded ? groups : [];
    for (const key of ['lastActive', 'owner']) lead[key] = full[key] ?? null;
    for (const key of ['ipAddresses', 'tags', 'utmtags', 'stage', 'dateIdentified', 'preferredProfileImage', 'doNotContact', 'frequencyRules']) {
      lead[key] = full[key] ?? null;
    }
    return lead;
  }
}

function details(payload: Record<string, unknown>): DeviceDetails {
  const result: DeviceDetails = {};
  for (const key of DETAIL_KEYS) {
    const value = payload[key];
    if (typeof value === 'string') result[key] = value;
  }
  return result;
}

type StatsRow = Record<string, string | null>;

const STATS_COLUMNS = [
  'id', 'lead_id', 'date_added', 'client_info', 'device', 'device_os_name', 'device_os_shortname', 'device_os_version',
  'device_os_platform', 'device_brand', 'device_model', 'tracking_id',
];

function statsRow(device: Device): StatsRow {
  return {
    id: String(device.id),
    lead_id: String(device.contactId),
    date_added: mysqlDateTime(device.createdAt),
    client_info: phpSerialize(device.clientInfo ?? []),
    device: device.device,
    device_os_name: device.deviceOsName,
    device_os_shortname: device.deviceOsShortName,
    device_os_version: device.deviceOsVersion,
    device_os_platform: device.deviceOsPlatform,
    device_brand: device.deviceBrand,
    device_model: device.deviceModel,
    tracking_id: device.trackingId,
  };
}

interface WhereFilter {
  col: string;
  test: (value: string | null) => boolean;
}

/** PHP-style nested keys: `where[0][col]`, `where[0][expr]`, `where[0][val]`. */
function whereFilters(query: URLSearchParams): WhereFilter[] {
  const parts = new Map<string, Record<string, string>>();
  for (const [key, value] of query) {
    const match = /^where\[(\d+)\]\[(col|expr|val)\]$/.exec(key);
    if (!match) continue;
    const index = match[1] ?? '';
    const entry = parts.get(index) ?? {};
    entry[match[2] ?? ''] = value;
    parts.set(index, entry);
  }
  const filters: WhereFilter[] = [];
  for (const entry of parts.values()) {
    const col = entry.col ?? '';
    const expr = entry.expr ?? 'eq';
    const val = entry.val ?? '';
    if (!/^[a-z_]+$/.test(col)) throw new ValidationError({ where: ['Each where entry needs a col.'] });
    const list = val.split(',').map((item) => item.trim());
    const tests: Record<string, (value: string | null) => boolean> = {
      eq: (value) => value === val,
      neq: (value) => value !== val,
      in: (value) => value !== null && list.includes(value),
      notIn: (value) => value === null || !list.includes(value),
      isNull: (value) => value === null,
      isNotNull: (value) => value !== null,
    };
    const test = tests[expr];
    if (!test) throw new ValidationError({ where: [`${expr} is not a supported expression.`] });
    filters.push({ col, test });
  }
  return filters;
}

function intParam(raw: string | null, fallback: number): number {
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : fallback;
}
