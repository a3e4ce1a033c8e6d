/**
 * The one-time, idempotent Mautic setup for identification's history merge
 * (`npx mautic-tracker setup-identify`, or `setupIdentify()` from code):
 * 1. a hidden custom contact field that is a unique identifier (`mt_visitor_ref`);
 * 2. a standalone form with that field as a hidden field;
 * 3. a probe of which contact this Mautic keeps when a form post merges two (docs/protocol.md
 *    §10.18, §12: the tracked one in 5.x–7.0, the found one after Mautic's fix #16426, the oldest
 *    in 4.x), with throwaway contacts it deletes again.
 * Running it again finds the field and form and only repeats the probe.
 */
import type { MauticContact } from '../protocol/rest.js';
import type { MergeSurvivor, IdentifyHistoryConfig } from './core/config.js';
import { oneTimeRef } from './core/history-merge.js';
import type { MauticField, MauticForm, MauticRestClient } from './rest/client.js';
import { MauticNotFoundError } from './rest/errors.js';
import { submitMauticForm } from './rest/form-submit.js';

export interface SetupIdentifyOptions {
  /** A client with the credentials of an API user allowed to manage fields, forms and contacts. */
  client: MauticRestClient;
  /** Mautic's base URL (the public form and tracking endpoints live there). */
  mauticUrl: string;
  /** Contact field alias. Default `mt_visitor_ref`. */
  field?: string;
  /** Form alias. Default `mtidentify` (Mautic keeps form aliases short). */
  formAlias?: string;
  /** Measure the merge survivor. Default true. */
  probe?: boolean;
  fetch?: typeof fetch;
  /** Progress lines for a person (the CLI prints them). */
  report?: (line: string) => void;
}

export interface SetupIdentifyResult {
  field: { id: number; alias: string; created: boolean };
  form: { id: number; alias: string; created: boolean; fieldAlias: string };
  /** Which contact a form-post merge keeps on this Mautic, or null (not probed, or no merge happened). */
  survivor: MergeSurvivor | null;
  mauticVersion: string | null;
  /** What to put in the proxy config as `identify.history`. */
  history: IdentifyHistoryConfig;
}

export const DEFAULT_HISTORY_FIELD = 'mt_visitor_ref';
export const DEFAULT_HISTORY_FORM_ALIAS = 'mtidentify';
const FORM_NAME = 'mautic-tracker identify (do not delete)';
const FORM_NAME_SEARCH = 'mautic-tracker';
/** Names the probe's throwaway contacts, so a person can recognise (and delete) any left over. */
export const PROBE_MARKER = 'mautic-tracker setup probe';
/** A browser-like agent: Mautic does not track bots (docs/protocol.md §10.10); the probe needs tracking. */
const PROBE_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
/** TEST-NET-1: Mautic must not match the probe's hit to a real visitor by IP. */
const PROBE_IP = '192.0.2.1';

export class SetupIdentifyError extends Error {
  override name = 'SetupIdentifyError';
}

/** @example const result = await setupIdentify({ client: proxy.rest!, mauticUrl }); console.log(result.history); */
export async function setupIdentify(options: SetupIdentifyOptions): Promise<SetupIdentifyResult> {
  const { client } = options;
  const report = options.report ?? (() => undefined);
  const alias = options.field ?? DEFAULT_HISTORY_FIELD;
  const formAlias = options.formAlias ?? DEFAULT_HISTORY_FORM_ALIAS;
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(alias)) throw new RangeError('field must be a lowercase alias like mt_visitor_ref');
  if (!/^[a-z][a-z0-9_]{0,9}$/.test(formAlias)) throw new RangeError('formAlias must be 1–10 lowercase letters, digits or _');

  const field = await ensureField(client, alias, report);
  const form = await ensureForm(client, formAlias, field.alias, report);
  let survivor: MergeSurvivor | null = null;
  if (options.probe !== false) {
    survivor = await probeMergeSurvivor({ client, mauticUrl: options.mauticUrl, field: field.alias, formId: form.id, formField: form.fieldAlias, fetch: options.fetch });
    report(survivor ? `Probe: on this Mautic a form-post merge keeps the ${survivor} contact.` : 'Probe: the form post merged nothing; the history merge cannot work here.');
  }
  const mauticVersion = client.mauticVersion;
  const history: IdentifyHistoryConfig = {
    field: field.alias,
    formId: form.id,
    ...(form.fieldAlias !== field.alias ? { formField: form.fieldAlias } : {}),
    ...(survivor ? { survivor } : {}),
    ...(mauticVersion ? { mauticVersion } : {}),
  };
  return { field, form, survivor, mauticVersion, history };
}

async function ensureField(client: MauticRestClient, alias: string, report: (line: string) => void): Promise<SetupIdentifyResult['field']> {
  const existing = (await client.listContactFields(alias)).find((f: MauticField) => f.alias === alias);
  if (existing) {
    if (!existing.isUniqueIdentifier) {
      throw new SetupIdentifyError(`the contact field "${alias}" exists but is not a unique identifier; make it one in Mautic (Custom Fields) or choose another --field`);
    }
    report(`Contact field "${alias}" (id ${existing.id}) exists: kept.`);
    return { id: existing.id, alias, created: false };
  }
  const created = await client.createContactField({
    label: 'mautic-tracker visitor ref',
    alias,
    type: 'text',
    isUniqueIdentifier: true,
    isPublished: true,
    isPubliclyUpdatable: false,
    isVisible: false,
    isListable: false,
    isShortVisible: false,
  });
  report(`Created contact field "${created.alias}" (id ${created.id}): hidden, unique identifier, not publicly updatable.`);
  return { id: created.id, alias: created.alias, created: true };
}

function refFieldOf(form: MauticForm, fieldAlias: string): string | null {
  const match = form.fields.find((f) => f.mappedField === fieldAlias || (f.alias === fieldAlias && f.type === 'hidden'));
  return match ? match.alias : null;
}

async function ensureForm(
  client: MauticRestClient,
  formAlias: string,
  fieldAlias: string,
  report: (line: string) => void,
): Promise<SetupIdentifyResult['form']> {
  // By alias, or by our name: Mautic may derive a form's alias from its name instead of taking ours.
  const candidates = [...(await client.listForms(formAlias)), ...(await client.listForms(FORM_NAME_SEARCH))];
  const existing = candidates.find((f) => f.alias === formAlias) ?? candidates.find((f) => f.name === FORM_NAME && refFieldOf(f, fieldAlias) !== null);
  if (existing) {
    const ref = refFieldOf(existing, fieldAlias);
    if (!ref) throw new SetupIdentifyError(`the form "${formAlias}" (id ${existing.id}) exists but has no field mapped to "${fieldAlias}"; delete it or choose another --form-alias`);
    if (!existing.isPublished) throw new SetupIdentifyError(`the form "${formAlias}" (id ${existing.id}) is unpublished; publish it in Mautic`);
    report(`Form "${existing.alias}" (id ${existing.id}) exists: kept.`);
    return { id: existing.id, alias: existing.alias, created: false, fieldAlias: ref };
  }
  const created = await client.createForm({
    name: FORM_NAME,
    alias: formAlias,
    description: 'Posted by the mautic-tracker proxy to merge an anonymous visitor into the contact who logged in.',
    formType: 'standalone',
    isPublished: true,
    postAction: 'message',
    postActionProperty: 'ok',
    fields: [{ label: 'Visitor ref', alias: fieldAlias, type: 'hidden', mappedObject: 'contact', mappedField: fieldAlias }],
  });
  const ref = refFieldOf(created, fieldAlias) ?? fieldAlias;
  report(`Created standalone form "${created.alias}" (id ${created.id}) with the hidden field "${ref}".`);
  return { id: created.id, alias: created.alias, created: true, fieldAlias: ref };
}

interface ProbeOptions {
  client: MauticRestClient;
  mauticUrl: string;
  field: string;
  formId: number;
  formField: string;
  fetch?: typeof fetch;
}

/**
 * Which contact a form-post merge keeps here. Round 1: the form finds the older contact while the
 * device tracks the newer one (tracked → newer survives; found and oldest → older). Round 2, only
 * if needed: finds the newer, tracks the older (found → newer; oldest → older).
 */
export async function probeMergeSurvivor(options: ProbeOptions): Promise<MergeSurvivor | null> {
  const first = await probeRound(options, 'find-older');
  if (first === null) return null;
  if (first === 'tracked') return 'tracked';
  const second = await probeRound(options, 'find-newer');
  if (second === null) return null;
  return second === 'found' ? 'found' : 'oldest';
}

/** One merge of two fresh throwaway contacts; says whether the found or the tracked one survived. */
async function probeRound(options: ProbeOptions, order: 'find-older' | 'find-newer'): Promise<'found' | 'tracked' | null> {
  const { client } = options;
  const made: number[] = [];
  try {
    let found: MauticContact | undefined;
    let tracked: { id: number; deviceId: string };
    // Ids grow: a tracked contact newer than a contact made just before is a fresh one, not a
    // real visitor Mautic matched the hit to (e.g. "track by IP").
    let floor: number;
    if (order === 'find-older') {
      found = (await client.createOrUpdateContact({ firstname: PROBE_MARKER })).contact;
      made.push(found.id);
      floor = found.id;
      tracked = await trackedProbeContact(options);
    } else {
      const baseline = (await client.createOrUpdateContact({ firstname: PROBE_MARKER })).contact;
      made.push(baseline.id);
      floor = baseline.id;
      tracked = await trackedProbeContact(options);
    }
    if (tracked.id <= floor) {
      throw new SetupIdentifyError('the probe\'s tracking hit landed on an existing contact; is "track by IP" on in Mautic? Probe stopped (that contact was not touched)');
    }
    made.push(tracked.id);
    if (order === 'find-newer') {
      found = (await client.createOrUpdateContact({ firstname: PROBE_MARKER })).contact;
      made.push(found.id);
    }
    if (!found) throw new SetupIdentifyError('probe: no contact to find');
    const ref = oneTimeRef();
    await client.editContact(found.id, { [options.field]: ref });
    const posted = await submitMauticForm({
      baseUrl: options.mauticUrl,
      formId: options.formId,
      values: { [options.formField]: ref },
      deviceId: tracked.deviceId,
      userAgent: PROBE_USER_AGENT,
      clientIp: PROBE_IP,
      fetch: options.fetch,
    });
    if (!posted.ok) throw new SetupIdentifyError(`Mautic refused the identify form post (${posted.reason}${posted.messages.length ? ': ' + posted.messages.join('; ') : ''})`);
    const foundNow = await contactOrNull(client, found.id);
    const trackedNow = await contactOrNull(client, tracked.id);
    const foundKept = foundNow?.id === found.id;
    const trackedKept = trackedNow?.id === tracked.id;
    if (foundKept && trackedKept) return null;
    return foundKept ? 'found' : trackedKept ? 'tracked' : null;
  } finally {
    for (const id of made) {
      try {
        await client.deleteContact(id);
      } catch (err) {
        // The merged-away one is gone already.
        if (!(err instanceof MauticNotFoundError)) throw err;
      }
    }
  }
}

/** A fresh anonymous contact with a device, made the way a browser makes one: a tracking hit without cookies. */
async function trackedProbeContact(options: ProbeOptions): Promise<{ id: number; deviceId: string }> {
  const res = await (options.fetch ?? globalThis.fetch)(`${options.mauticUrl.replace(/\/+$/, '')}/mtc/event`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': PROBE_USER_AGENT,
      'x-forwarded-for': PROBE_IP,
      'x-requested-with': 'XMLHttpRequest',
    },
    body: new URLSearchParams({ page_url: 'https://mautic-tracker.invalid/setup-probe', page_title: PROBE_MARKER }).toString(),
    redirect: 'error',
  });
  const json = (await res.json().catch(() => null)) as { id?: unknown; device_id?: unknown } | null;
  if (!res.ok || !json || typeof json.id !== 'number' || json.id < 1 || typeof json.device_id !== 'string' || json.device_id === '') {
    throw new SetupIdentifyError(`the probe's tracking hit was not tracked (HTTP ${res.status}); is the server's IP on Mautic's ignore list?`);
  }
  return { id: json.id, deviceId: json.device_id };
}

async function contactOrNull(client: MauticRestClient, id: number): Promise<MauticContact | null> {
  try {
    return await client.getContact(id);
  } catch (err) {
    if (err instanceof MauticNotFoundError) return null;
    throw err;
  }
}

