/**
 * What server code usually wants right after identifying someone, done in the same
 * `proxy.identify()` call and under the same deadline: tags, segments, points. They run once the
 * contact is known, side by side (each is one independent write); none is retried (a write is
 * never repeated blindly), and a failed one does not undo the identification: each is reported.
 */
import type { MauticRestClient, PointsOperator } from '../rest/client.js';
import { MauticApiError, MauticTimeoutError } from '../rest/errors.js';
import type { Log } from './logger.js';

/** Points to give: a number is `plus`; or any of Mautic's operators. */
export type IdentifyPoints = number | { operator: PointsOperator; delta: number };

export interface IdentifyFollowUps {
  /** Tags to add (Mautic creates unknown ones). */
  tags?: string[];
  /** Segment ids to add the contact to. */
  segments?: number[];
  points?: IdentifyPoints;
}

/** One follow-up's outcome. `error` names the failure class and status, never a message from the request. */
export interface IdentifyStep {
  step: 'tags' | 'segment' | 'points';
  /** For `segment`: which one. */
  segmentId?: number;
  outcome: 'done' | 'failed' | 'timeout';
  error?: string;
}

const TAG = /^[^,\s-][^,]{0,99}$/;
const OPERATORS: ReadonlySet<string> = new Set(['plus', 'minus', 'times', 'divide']);

/** Throws `TypeError` for anything the client would refuse, before any call is made. */
export function checkFollowUps(value: IdentifyFollowUps): void {
  if (value.tags !== undefined) {
    if (!Array.isArray(value.tags) || value.tags.length > 100 || !value.tags.every((t) => typeof t === 'string' && TAG.test(t.trim()))) {
      throw new TypeError('identify: tags must be up to 100 names without commas or a leading "-"');
    }
  }
  if (value.segments !== undefined) {
    if (!Array.isArray(value.segments) || value.segments.length > 50 || !value.segments.every((s) => Number.isSafeInteger(s) && s > 0)) {
      throw new TypeError('identify: segments must be up to 50 segment ids');
    }
  }
  if (value.points !== undefined) {
    const p = value.points;
    const ok = typeof p === 'number'
      ? Number.isSafeInteger(p) && p > 0
      : typeof p === 'object' && p !== null && OPERATORS.has(p.operator) && Number.isSafeInteger(p.delta) && p.delta > 0;
    if (!ok) throw new TypeError("identify: points must be a positive integer or { operator: 'plus'|'minus'|'times'|'divide', delta }");
  }
}

export function hasFollowUps(value: IdentifyFollowUps): boolean {
  return (value.tags?.length ?? 0) > 0 || (value.segments?.length ?? 0) > 0 || value.points !== undefined;
}

/** Runs the follow-ups on `contactId` through `api` (bounded by the operation's deadline). */
export async function runFollowUps(api: MauticRestClient, contactId: number, value: IdentifyFollowUps, log: Log): Promise<IdentifyStep[]> {
  const work: Array<{ step: IdentifyStep; run: () => Promise<unknown> }> = [];
  if (value.tags && value.tags.length > 0) {
    const tags = [...new Set(value.tags.map((t) => t.trim()))];
    work.push({ step: { step: 'tags', outcome: 'done' }, run: () => api.addTags(contactId, tags) });
  }
  for (const segmentId of new Set(value.segments ?? [])) {
    work.push({ step: { step: 'segment', segmentId, outcome: 'done' }, run: () => api.addToSegment(segmentId, contactId) });
  }
  if (value.points !== undefined) {
    const { operator, delta } = typeof value.points === 'number' ? { operator: 'plus' as const, delta: value.points } : value.points;
    work.push({ step: { step: 'points', outcome: 'done' }, run: () => api.changePoints(contactId, operator, delta, { eventName: 'identify', actionName: 'mautic-tracker' }) });
  }
  const settled = await Promise.allSettled(work.map((w) => w.run()));
  return settled.map((result, i) => {
    const { step } = work[i]!;
    if (result.status === 'fulfilled') return step;
    const err = result.reason as unknown;
    if (!(err instanceof MauticApiError)) throw err;
    const outcome = err instanceof MauticTimeoutError ? 'timeout' : 'failed';
    log('warn', `identify: the ${step.step} step failed; the contact is identified`, { step: step.step, status: err.status, type: err.type });
    return { ...step, outcome, error: `${err.name} ${err.status}` };
  });
}
