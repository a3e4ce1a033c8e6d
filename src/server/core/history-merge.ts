/**
 * Moving anonymous contact B's history onto known contact A, with A kept (docs/protocol.md §11).
 * Mautic's REST API never merges; a form post does: it merges the contact the form *finds*
 * (through a unique field) with the contact Mautic *tracks* (through the device cookie). Which of
 * the two survives depends on the version (§12), so this step:
 * - runs only with a survivor rule measured by `setup-identify` on this very Mautic version;
 * - arranges "found" and "tracked" so that A is the one kept under that rule (or does not run);
 * - checks afterwards that A still exists under its own id, and stops for good if not.
 * UTM rows are copied to A first, since a merge drops the loser's.
 */
import type { MauticContact } from '../../protocol/rest.js';
import type { MauticRestClient, UtmTags } from '../rest/client.js';
import { MauticNotFoundError } from '../rest/errors.js';
import { submitMauticForm } from '../rest/form-submit.js';
import type { MergeSurvivor, ResolvedConfig } from './config.js';
import type { Log } from './logger.js';

type HistorySettings = NonNullable<NonNullable<ResolvedConfig['identify']>['history']>;

export type HistoryOutcome =
  | 'merged'
  /** Skipped before anything was changed (the reason is logged). */
  | 'skipped'
  /** The form post did not merge (B still exists). */
  | 'not-merged'
  /** A did not survive: merging is now off for this process. */
  | 'lost';

/** A merge's outcome, and the known contact as read after the form post (null when not read or gone). */
export interface MergeResult {
  outcome: HistoryOutcome;
  known: MauticContact | null;
}

export interface HistoryMergeInput {
  /** The known contact, to keep. */
  known: MauticContact;
  /** The anonymous contact, to fold into `known` (read with its `utmtags`). */
  anonymous: MauticContact;
  /** The browser's `mautic_device_id`. */
  trackingId: string;
  visitor: { userAgent: string; clientIp: string };
}

/** At most this many UTM rows are copied (a hostile page could have made thousands). */
const MAX_UTM_ROWS = 20;

/** Form-post order for a survivor rule: whom the form finds, given the device points at `tracked`. */
export type MergeArrangement = { find: 'anonymous'; track: 'known' } | { find: 'known'; track: 'anonymous' };

/**
 * How to arrange the post so the known contact survives, or null when no arrangement can
 * promise it (Mautic 4's "oldest" rule when the anonymous contact is the older one).
 */
export function arrangementFor(survivor: MergeSurvivor, known: MauticContact, anonymous: MauticContact): MergeArrangement | null {
  switch (survivor) {
    case 'tracked':
      return { find: 'anonymous', track: 'known' };
    case 'found':
      return { find: 'known', track: 'anonymous' };
    case 'oldest':
      return isOlder(known, anonymous) ? { find: 'anonymous', track: 'known' } : null;
  }
}

function isOlder(a: MauticContact, b: MauticContact): boolean {
  const da = Date.parse(String(a.dateAdded ?? ''));
  const db = Date.parse(String(b.dateAdded ?? ''));
  if (Number.isFinite(da) && Number.isFinite(db) && da !== db) return da < db;
  return a.id < b.id;
}

/** Random one-time value for the hidden field: nobody can guess it to aim a merge. */
export function oneTimeRef(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'mt' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A contact's UTM row (as `GET /api/contacts/{id}` lists it) as a `utm/add` body. */
export function utmRowToTags(row: unknown): UtmTags | null {
  if (typeof row !== 'object' || row === null) return null;
  const r = row as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof r[key] === 'string' && r[key] !== '' ? (r[key] as string).slice(0, 1000) : undefined);
  const tags: UtmTags = {};
  const map: Array<[keyof UtmTags, string]> = [
    ['utm_campaign', 'utmCampaign'],
    ['utm_source', 'utmSource'],
    ['utm_medium', 'utmMedium'],
    ['utm_content', 'utmContent'],
    ['utm_term', 'utmTerm'],
    ['url', 'url'],
    ['referer', 'referer'],
    ['useragent', 'userAgent'],
    ['remotehost', 'remoteHost'],
  ];
  for (const [to, from] of map) {
    const value = text(from) ?? text(to);
    if (value !== undefined) (tags as Record<string, string>)[to] = value;
  }
  const added = text('dateAdded') ?? text('date_added');
  if (added) tags.lastActive = added;
  return Object.keys(tags).length > 0 ? tags : null;
}

export class HistoryMerger {
  /** Set once a merge did not keep the known contact: never try again in this process. */
  private stopped = false;
  private warnedVersion = false;

  constructor(
    private readonly settings: HistorySettings,
    private readonly deps: { mauticUrl: string; fetch: typeof fetch; timeoutMs: number; log: Log },
  ) {}

  /**
   * The arrangement to use now, or null (logged) when merging must not run: stopped, no survivor
   * rule measured, or Mautic's version is not the one it was measured on.
   */
  plan(api: MauticRestClient, known: MauticContact, anonymous: MauticContact): MergeArrangement | null {
    const { log } = this.deps;
    if (this.stopped) return null;
    const { survivor, mauticVersion } = this.settings;
    if (!survivor) {
      log('warn', 'identify: history merge skipped: identify.history.survivor is not set; run `npx mautic-tracker setup-identify` to measure it');
      return null;
    }
    const seen = api.mauticVersion;
    // The rule holds for the version it was measured on only (FACTS §3: it changes between
    // versions); without a measured version there is nothing to hold it to.
    if (!mauticVersion || seen !== mauticVersion) {
      if (!this.warnedVersion) {
        this.warnedVersion = true;
        log('warn', mauticVersion
          ? 'identify: history merge skipped: Mautic is not the version setup-identify measured; run it again'
          : 'identify: history merge skipped: identify.history.mauticVersion is not set; run `npx mautic-tracker setup-identify` and paste its whole config line', {
          measured: mauticVersion ?? 'none',
          now: seen ?? 'unknown',
        });
      }
      return null;
    }
    const arrangement = arrangementFor(survivor, known, anonymous);
    if (!arrangement) log('info', 'identify: history merge skipped: this Mautic keeps the oldest contact and the anonymous one is older');
    return arrangement;
  }

  /** Copies B's UTM rows to A (a merge drops the loser's). Part of every arrangement. */
  async copyUtm(api: MauticRestClient, input: HistoryMergeInput): Promise<void> {
    const rows = Array.isArray(input.anonymous.utmtags) ? (input.anonymous.utmtags as unknown[]) : [];
    for (const row of rows.slice(0, MAX_UTM_ROWS)) {
      const tags = utmRowToTags(row);
      if (tags) await api.addUtmTags(input.known.id, tags);
    }
  }

  /**
   * Sets the one-time ref on the contact the form must find and posts the form with the
   * browser's device cookie (whose device must already point at the other contact), then
   * verifies the known contact survived. The merge copies the more recently modified contact's
   * non-empty fields onto the survivor, so the caller gets A as it is now to write back its fields.
   */
  async merge(api: MauticRestClient, input: HistoryMergeInput, arrangement: MergeArrangement, signal: AbortSignal): Promise<MergeResult> {
    const { log } = this.deps;
    const found = arrangement.find === 'known' ? input.known : input.anonymous;
    const tracked = arrangement.find === 'known' ? input.anonymous : input.known;
    // A tracked contact with its own value (an earlier merge leaves the loser's ref on the
    // survivor) makes Mautic switch contacts instead of merging: blank it first.
    const stale = tracked.fields?.all?.[this.settings.field];
    if (typeof stale === 'string' && stale !== '') {
      await api.editContact(tracked.id, { [this.settings.field]: '', overwriteWithBlank: true });
    }
    const ref = oneTimeRef();
    await api.editContact(found.id, { [this.settings.field]: ref });
    const posted = await submitMauticForm({
      baseUrl: this.deps.mauticUrl,
      formId: this.settings.formId,
      values: { [this.settings.formField]: ref },
      deviceId: input.trackingId,
      userAgent: input.visitor.userAgent,
      clientIp: input.visitor.clientIp,
      fetch: this.deps.fetch,
      timeoutMs: this.deps.timeoutMs,
      signal,
    });
    if (!posted.ok) {
      log('warn', 'identify: history merge: Mautic refused the identify form post', { reason: posted.reason, formId: this.settings.formId });
      return { outcome: 'not-merged', known: null };
    }
    const known = await contactOrNull(api, input.known.id);
    if (!known || known.id !== input.known.id) {
      this.stopped = true;
      log('error', 'identify: history merge did NOT keep the known contact; merging is now off until restart. Run `npx mautic-tracker setup-identify` again', {
        known: input.known.id,
        survivor: known?.id ?? 'none',
      });
      return { outcome: 'lost', known: null };
    }
    const anonymous = await contactOrNull(api, input.anonymous.id);
    if (anonymous && anonymous.id === input.anonymous.id) {
      log('warn', 'identify: history merge: the form post did not merge the anonymous contact', { anonymous: input.anonymous.id });
      return { outcome: 'not-merged', known };
    }
    return { outcome: 'merged', known };
  }
}

/** The contact under `id` (a merged-away id answers with its survivor), or null when gone. */
async function contactOrNull(api: MauticRestClient, id: number): Promise<MauticContact | null> {
  try {
    return await api.getContact(id);
  } catch (err) {
    if (err instanceof MauticNotFoundError) return null;
    throw err;
  }
}
