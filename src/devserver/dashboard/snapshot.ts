/**
 * Turns the stand-in's live state into the dashboard's JSON (also the export format): plain data,
 * newest last, secrets redacted. Reads the stand-in only through {@link DashboardSource}, so the
 * dashboard depends on nothing but the public shape of `startStandin()`'s result.
 */

import type {
  Contact,
  Device,
  FormSubmissionRecord,
  MergeRecord,
  RecordedApiCall,
  RecordedHit,
  RecordedRequest,
  Standin,
} from '../standin/types.js';

/**
 * What the dashboard needs from a running stand-in (a subset of `startStandin()`'s result).
 * Devices, merges and form submissions are optional so that older sources still work.
 */
export type DashboardSource = Pick<Standin, 'url' | 'hits' | 'contacts' | 'requests' | 'apiCalls' | 'subscribe'> &
  Partial<Pick<Standin, 'devices' | 'merges' | 'formSubmissions'>>;

/** A device (browser) in words: which client and system, and which contact it counts for. */
export interface DashboardDevice {
  id: number;
  /** The `mautic_device_id` cookie value; null for devices made through the API. */
  trackingId: string | null;
  contactId: number;
  at: string;
  /** e.g. 'Chrome 120.0' ('' when unknown). */
  client: string;
  /** e.g. 'GNU/Linux x64'. */
  os: string;
  /** desktop, smartphone, tablet, or ''. */
  type: string;
}

export interface DashboardHit {
  seq: number;
  at: string;
  via: string;
  url: string;
  title: string;
  referrer: string;
  contactId: number | null;
  deviceId: string | null;
  ip: string;
  /** Parameters exactly as the hit sent them. */
  params: Record<string, string>;
  /** What Mautic stores: page_url's query merged under the params, keys lowercased. */
  query: Record<string, string>;
}

export interface DashboardEvent {
  seq: number;
  at: string;
  category: string;
  action: string;
  label: string;
  value: string;
  url: string;
  contactId: number | null;
}

/** A REST call as the stand-in recorded it, with its request body for the dashboard. */
export interface DashboardApiCall extends RecordedApiCall {
  /** Request body (JSON parsed when it is JSON) with secrets replaced by "[redacted]". */
  body: unknown;
}

/** A failure the dev server injected itself (`--fail-rate`), so it never reached the stand-in. */
export interface InjectedFailure {
  at: string;
  method: string;
  path: string;
  status: number;
}

export interface DashboardSnapshot {
  exportedAt: string;
  mauticUrl: string;
  settings: Record<string, unknown>;
  counts: {
    contacts: number;
    hits: number;
    events: number;
    apiCalls: number;
    injectedFailures: number;
    devices: number;
    merges: number;
    formSubmissions: number;
  };
  contacts: Contact[];
  hits: DashboardHit[];
  events: DashboardEvent[];
  apiCalls: DashboardApiCall[];
  injectedFailures: InjectedFailure[];
  devices: DashboardDevice[];
  merges: MergeRecord[];
  /** Form posts with the values sent (secret-looking values redacted) and how the contact was chosen. */
  formSubmissions: FormSubmissionRecord[];
}

type Loose = Record<string, unknown>;

const SECRET_KEY = /secret|password|passwd|authorization|access_token|refresh_token|api_key|token$/i;
const SECRET_FORM_PAIR = /((?:^|&)(?:client_secret|password|access_token|refresh_token|code)=)[^&]*/gi;





/** Accepts epoch ms, an ISO string or a Date (the contract does not fix the type of `at`). */
export function toIsoTime(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return '';
}

/** Deep copy that keeps JSON-able data and replaces values of secret-looking keys. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[too deep]';
  if (typeof value === 'string') return value.replace(SECRET_FORM_PAIR, '$1[redacted]');
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const out: Loose = {};
    for (const [key, item] of Object.entries(value as Loose)) {
      out[key] = SECRET_KEY.test(key) && item !== null && item !== '' ? '[redacted]' : redact(item, depth + 1);
    }
    return out;
  }
  return undefined;
}

function toHit(hit: RecordedHit): DashboardHit {
  return {
    seq: hit.seq,
    at: toIsoTime(hit.at),
    via: hit.via,
    url: hit.pageUrl ?? hit.params.page_url ?? '',
    title: hit.title ?? hit.params.page_title ?? '',
    referrer: hit.referrer ?? hit.params.page_referrer ?? '',
    contactId: hit.contactId,
    deviceId: hit.deviceId,
    ip: hit.ip,
    params: { ...hit.params },
    query: { ...hit.query },
  };
}

/** A custom event is a hit whose page_url carries `mt_action` (the SDK's event encoding). */
function toEvent(hit: RecordedHit): DashboardEvent | undefined {
  const q = hit.query;
  const action = hit.event?.action ?? q.mt_action;
  if (action === undefined) return undefined;
  return {
    seq: hit.seq,
    at: toIsoTime(hit.at),
    category: hit.event?.category ?? q.mt_category ?? '',
    action,
    label: hit.event?.label ?? q.mt_label ?? '',
    value: hit.event?.value ?? q.mt_value ?? '',
    url: hit.pageUrl ?? '',
    contactId: hit.contactId,
  };
}

function parseBody(body: string): unknown {
  if (body === '') return '';
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/**
 * Pairs each API call with the request that carried it (same method and path, in arrival order),
 * so the dashboard can show what was sent: the email and fields of an identification.
 */
function toApiCalls(calls: readonly RecordedApiCall[], requests: readonly RecordedRequest[]): DashboardApiCall[] {
  const pending = new Map<string, RecordedRequest[]>();
  for (const request of requests) {
    if (request.route !== 'api') continue;
    const key = `${request.method} ${request.path}`;
    const list = pending.get(key) ?? [];
    list.push(request);
    pending.set(key, list);
  }
  return calls.map((call) => {
    const request = pending.get(`${call.method} ${call.path}`)?.shift();
    return {
      seq: call.seq,
      at: toIsoTime(call.at),
      method: call.method,
      path: call.path,
      operation: call.operation,
      status: call.status,
      contactId: call.contactId,
      caller: call.caller,
      body: request ? redact(parseBody(request.body)) : '',
    };
  });
}

function toDevice(device: Device): DashboardDevice {
  const info = device.clientInfo;
  return {
    id: device.id,
    trackingId: device.trackingId,
    contactId: device.contactId,
    at: toIsoTime(device.createdAt),
    client: info ? `${info.name} ${info.version}`.trim() : '',
    os: [device.deviceOsName, device.deviceOsVersion, device.deviceOsPlatform].filter(Boolean).join(' '),
    type: device.device ?? '',
  };
}

export function buildSnapshot(
  source: DashboardSource,
  extras: { settings?: Record<string, unknown>; injectedFailures?: readonly InjectedFailure[] } = {},
): DashboardSnapshot {
  const rawHits = source.hits;
  const hits = rawHits.map(toHit);
  const events = rawHits.map(toEvent).filter((e): e is DashboardEvent => e !== undefined);
  const apiCalls = toApiCalls(source.apiCalls, source.requests);
  const contacts = source.contacts;
  const injectedFailures = [...(extras.injectedFailures ?? [])];
  const devices = (source.devices ?? []).map(toDevice);
  const merges = source.merges ?? [];
  const formSubmissions = (source.formSubmissions ?? []).map((submission) => redact(submission) as FormSubmissionRecord);
  return {
    exportedAt: new Date().toISOString(),
    mauticUrl: source.url,
    settings: extras.settings ?? {},
    counts: {
      contacts: contacts.length,
      hits: hits.length,
      events: events.length,
      apiCalls: apiCalls.length,
      injectedFailures: injectedFailures.length,
      devices: devices.length,
      merges: merges.length,
      formSubmissions: formSubmissions.length,
    },
    contacts,
    hits,
    events,
    apiCalls,
    injectedFailures,
    devices,
    merges,
    formSubmissions,
  };
}
