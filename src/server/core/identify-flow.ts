/**
 * What identification does in Mautic, case by case (README "Identification"). Mautic attributes
 * hits by its device cookie, so "this browser is now A" means moving the browser's device to A;
 * the REST API never merges (a taken email is a 422), so the known contact is looked up first.
 *
 * | case                                            | calls                                                   |
 * |-------------------------------------------------|---------------------------------------------------------|
 * | same person again (bound contact has the email) | search (+ PATCH fields if they differ)                   |
 * | new email, anonymous browser contact B          | search, GET B, PATCH B {email, fields}                  |
 * | email of A, anonymous browser contact B         | search, GET B, device stats, PATCH device → A (+ fields) |
 * |   … and the history merge                       | utm/add per B row, PATCH ref, form post, GET A, GET B    |
 * |     (+ PATCH A when the merge overwrote a field identify sent)                                             |
 * |   … "found" survives: the merge first          | search, GET B, utm/add, PATCH A ref, form post, GET A,    |
 * |                                                 | GET B, device stats (+ PATCH device), PATCH A fields      |
 * | email of A, browser bound to P (another email)  | search, GET P, device stats, PATCH device → A (+ fields) |
 * | new email, browser bound to P                   | search, GET P, POST new, device stats, PATCH device      |
 * | no binding                                      | search, then PATCH fields of A or POST new               |
 */
import type { MauticContact } from '../../protocol/rest.js';
import type { ContactFields, MauticRestClient } from '../rest/client.js';
import { MauticApiError, MauticNotFoundError, MauticTimeoutError } from '../rest/errors.js';
import type { Binding } from './binding.js';
import type { HistoryMerger, HistoryOutcome, MergeResult } from './history-merge.js';
import { normalizeEmail } from './identity-token.js';
import type { Log } from './logger.js';

export type IdentifyCase =
  | 'same-person'
  | 'new-email'
  | 'known-email'
  | 'shared-browser'
  | 'shared-browser-new-email'
  | 'unbound-known'
  | 'unbound-new'
  | 'bound-contact-gone';

export interface FlowInput {
  email: string;
  fields: ContactFields;
  binding: Binding | null;
  visitor: { userAgent: string; clientIp: string };
}

export interface FlowResult {
  contactId: number;
  created: boolean;
  case: IdentifyCase;
  /** Whether the browser's Mautic device now belongs to `contactId`. */
  deviceMoved: boolean;
  history: HistoryOutcome | 'not-applicable' | 'off';
}

/**
 * Progress the caller can read when the deadline ends the flow early: once `settled` is set,
 * the browser is the right contact in Mautic and only optional work (the history merge) remains.
 */
export interface FlowProgress {
  settled: { contactId: number; created: boolean } | null;
}

/** Among contacts sharing an email: the browser's own one if it is among them, else the oldest (lowest id). */
export function chooseContact(matches: MauticContact[], boundId: number | null): MauticContact | null {
  if (matches.length === 0) return null;
  const own = boundId === null ? undefined : matches.find((c) => c.id === boundId);
  if (own) return own;
  return matches.reduce((a, b) => (b.id < a.id ? b : a));
}

function emailOf(contact: MauticContact): string | null {
  const value = contact.fields?.all?.email;
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Fields that would change the contact (Mautic compares loosely; so do we). */
function changedFields(contact: MauticContact, fields: ContactFields): ContactFields {
  const current = contact.fields?.all ?? {};
  const out: ContactFields = {};
  for (const [key, value] of Object.entries(fields)) {
    const now = current[key];
    if (now === undefined || now === null || String(now) !== String(value)) out[key] = value;
  }
  return out;
}

export class IdentifyFlow {
  constructor(
    private readonly api: MauticRestClient,
    /** `mergeBudgetMs`: how long a merge that must run before the device move may take. */
    private readonly deps: { history: HistoryMerger | null; log: Log; signal: AbortSignal; mergeBudgetMs: number },
    private readonly progress: FlowProgress,
  ) {}

  async run(input: FlowInput): Promise<FlowResult> {
    const { api } = this;
    const { email, fields, binding } = input;
    const matches = await api.findContactsByEmail(email);
    const known = chooseContact(matches, binding?.contactId ?? null);
    if (matches.length > 1) this.deps.log('info', 'identify: several contacts share this email; using the documented choice', { count: matches.length, chosen: known!.id });

    if (!binding) {
      if (known) return this.settle(await this.patchFields(known, fields), false, 'unbound-known', false);
      const { contact, created } = await api.createOrUpdateContact({ ...fields, email });
      return this.settle(contact.id, created, 'unbound-new', false);
    }
    if (known && known.id === binding.contactId) {
      return this.settle(await this.patchFields(known, fields), false, 'same-person', false);
    }

    const bound = await this.contactOrNull(binding.contactId);
    const boundEmail = bound ? emailOf(bound) : null;
    if (bound && boundEmail && normalizeEmail(boundEmail) === normalizeEmail(email)) {
      // The search missed it (a race with another identify): it is this person after all.
      return this.settle(await this.patchFields(bound, fields), false, 'same-person', false);
    }
    const anonymous = bound !== null && boundEmail === null;

    if (!known) {
      if (anonymous) {
        // Case 1: the browser's own contact simply gets the email; its device stays with it.
        await api.editContact(bound.id, { ...fields, email });
        return this.settle(bound.id, false, 'new-email', true);
      }
      // A shared browser (bound to someone else) or a contact deleted in Mautic: the visitor
      // gets a contact of their own, and the browser's device moves to it.
      const { contact, created } = await api.createOrUpdateContact({ ...fields, email });
      const moved = bound ? await this.moveDevice(binding.deviceId, contact.id) : false;
      return this.settle(contact.id, created, bound ? 'shared-browser-new-email' : 'bound-contact-gone', moved);
    }

    // The email belongs to known contact A ≠ the browser's contact.
    const history = anonymous ? this.deps.history : null;
    const arrangement = history && bound ? history.plan(api, known, bound) : null;
    const mergeInput = bound && binding.deviceId
      ? { known, anonymous: bound, trackingId: binding.deviceId, visitor: input.visitor }
      : null;

    if (arrangement && mergeInput && arrangement.track === 'anonymous') {
      // "found survives": the form must find A while the device still tracks B; move it after.
      // A failed or slow merge must not cost the identification itself, so the device moves
      // regardless, and the merge gets only part of the deadline (the rest is for the move).
      const mergeSignal = AbortSignal.any([this.deps.signal, AbortSignal.timeout(this.deps.mergeBudgetMs)]);
      const mergeApi = api.bounded(mergeSignal);
      let merged: MergeResult = { outcome: 'not-merged', known: null };
      try {
        await history!.copyUtm(mergeApi, mergeInput);
        merged = await history!.merge(mergeApi, mergeInput, arrangement, mergeSignal);
      } catch (err) {
        if (!(err instanceof MauticApiError) || this.deps.signal.aborted) throw err;
        this.deps.log('warn', err instanceof MauticTimeoutError
          ? 'identify: the history merge did not finish in its share of timeoutMs; moving the device anyway'
          : 'identify: the history merge failed; moving the device anyway', { status: err.status, type: err.type });
      }
      const moved = await this.moveDevice(binding.deviceId, known.id);
      const id = await this.patchFields(merged.known ?? known, fields);
      return this.settle(id, false, 'known-email', moved, merged.outcome);
    }

    const moved = await this.moveDevice(binding.deviceId, known.id);
    const id = await this.patchFields(known, fields);
    const kind: IdentifyCase = bound === null ? 'bound-contact-gone' : anonymous ? 'known-email' : 'shared-browser';
    if (!anonymous) return this.settle(id, false, kind, moved, 'not-applicable');
    if (!history) return this.settle(id, false, kind, moved, 'off');
    if (!arrangement || !mergeInput || !moved) return this.settle(id, false, kind, moved, 'skipped');
    this.progress.settled = { contactId: id, created: false };
    await history.copyUtm(api, mergeInput);
    const merged = await history.merge(api, mergeInput, arrangement, this.deps.signal);
    // The merge copied B's non-empty fields over A's (B was modified last, with the ref): what
    // identify sent wins again. Usually nothing differs and no call is made.
    if (merged.known) await this.patchFields(merged.known, fields);
    return this.settle(id, false, kind, moved, merged.outcome);
  }

  private settle(
    contactId: number,
    created: boolean,
    kind: IdentifyCase,
    deviceMoved: boolean,
    history: FlowResult['history'] = 'not-applicable',
  ): FlowResult {
    this.progress.settled = { contactId, created };
    return { contactId, created, case: kind, deviceMoved, history };
  }

  /** PATCHes only fields that differ (none: no call). Returns the contact's id. */
  private async patchFields(contact: MauticContact, fields: ContactFields): Promise<number> {
    const changes = changedFields(contact, fields);
    if (Object.keys(changes).length > 0) await this.api.editContact(contact.id, changes);
    return contact.id;
  }

  /**
   * Moves the browser's Mautic device to `contactId`, so Mautic's own attribution (the
   * unchanged `mautic_device_id` cookie) counts its later hits there. False when Mautic has no
   * such device (the binding came from a hit that Mautic did not store).
   */
  private async moveDevice(trackingId: string, contactId: number): Promise<boolean> {
    if (!trackingId) return false;
    const device = await this.api.findDeviceByTrackingId(trackingId);
    if (!device) {
      this.deps.log('info', 'identify: the browser has no device in Mautic; later hits will make one');
      return false;
    }
    if (device.contactId !== contactId) await this.api.assignDevice(device.id, contactId);
    return true;
  }

  private async contactOrNull(id: number): Promise<MauticContact | null> {
    try {
      return await this.api.getContact(id);
    } catch (err) {
      if (err instanceof MauticNotFoundError) return null;
      throw err;
    }
  }
}
