/**
 * `GET /api/contacts/{id}/activity`: the contact's timeline from what the stand-in records —
 * points changes, UTM rows, page hits, form submissions and the API identifying it. Like Mautic,
 * `limit` applies per event type (the recorded answer holds more events than its limit).
 */
import { parseFormLikePhp } from './body.js';
import { mauticDate } from './php-values.js';
import { jsonReply, type RequestContext } from './reply.js';
import { contactById, notFound, type ApiRouter, type HandlerResult, type RestDeps } from './rest-support.js';
import type { Contact } from './types.js';

const DEFAULT_LIMIT = 25;

/** Mautic 5.1's event types and labels (recorded). */
const TYPES: Record<string, string> = {
  'asset.download': 'Asset downloaded',
  'campaign.event': 'Campaign action triggered',
  'campaign.event.scheduled': 'Campaign event scheduled',
  campaign_membership: 'Campaign membership change',
  'lead.source.created': 'Contact created by source',
  'lead.source.identified': 'Contact identified by source',
  'lead.donotcontact': 'Do not contact',
  'dynamic.content.sent': 'Dynamic Content Triggered',
  'email.failed': 'Email failed',
  'email.read': 'Email read',
  'email.replied': 'Email replied',
  'email.sent': 'Email sent',
  'sms.failed': 'Failed',
  'focus.on_click': 'Focus click',
  'focus.on_view': 'Focus view',
  'form.submitted': 'Form submitted',
  'lead.imported': 'Imported',
  integration_sync_issues: 'Integration sync notice',
  'message.queue': 'Message Queue',
  'page.hit': 'Page hit',
  'point.gained': 'Point gained',
  segment_membership: 'Segment membership change',
  'sms.sent': 'Sent',
  'stage.changed': 'Stage changed',
  sms_reply: 'Text message received',
  'lead.utmtagsadded': 'UTM tags recorded',
  'page.videohit': 'Video view event',
};

interface TimelineEvent {
  event: string;
  eventId: string;
  eventLabel: unknown;
  eventType: string;
  timestamp: string;
  contactId: string;
  details: Record<string, unknown>;
}

export function registerContactActivityRoutes(router: ApiRouter, deps: RestDeps): void {
  router.add('GET', '/api/contacts/{id}/activity', {
    operation: 'contact.activity',
    handler: (ctx, params) => activity(deps, ctx, params),
  });
}

function activity(deps: RestDeps, ctx: RequestContext, params: Record<string, string>): HandlerResult {
  const contact = contactById(deps.store, params.id);
  if (!contact) return notFound();
  const query = parseFormLikePhp(ctx.rawQuery);
  const limit = /^\d+$/.test(query.limit ?? '') && Number(query.limit) > 0 ? Number(query.limit) : DEFAULT_LIMIT;
  const page = /^\d+$/.test(query.page ?? '') && Number(query.page) > 0 ? Number(query.page) : 1;

  const byType = new Map<string, TimelineEvent[]>();
  for (const event of timeline(deps, contact)) {
    const list = byType.get(event.event) ?? [];
    list.push(event);
    byType.set(event.event, list);
  }
  let total = 0;
  const events: TimelineEvent[] = [];
  for (const list of byType.values()) {
    total += list.length;
    list.sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    events.push(...list.slice((page - 1) * limit, page * limit));
  }
  events.sort((a, b) => b.timestamp.localeCompare(a.timestamp));
  const largest = Math.max(0, ...[...byType.values()].map((list) => list.length));
  return {
    reply: jsonReply(200, {
      events,
      filters: { search: '', includeEvents: [], excludeEvents: [] },
      order: ['timestamp', 'DESC'],
      types: TYPES,
      total,
      page,
      limit,
      maxPages: Math.max(1, Math.ceil(largest / limit)),
    }),
    contactId: contact.id,
  };
}

function timeline(deps: RestDeps, contact: Contact): TimelineEvent[] {
  const contactId = String(contact.id);
  const events: TimelineEvent[] = [];
  const at = (iso: string): string => mauticDate(iso) ?? iso;

  for (const change of deps.store.pointChanges(contact.id)) {
    events.push({
      event: 'point.gained',
      eventId: `point.gained${change.id}`,
      eventLabel: `${change.eventName} / ${change.delta}`,
      eventType: TYPES['point.gained'] ?? '',
      timestamp: at(change.at),
      contactId,
      details: {
        log: {
          eventName: change.eventName,
          actionName: change.actionName,
          dateAdded: at(change.at),
          type: change.actionName,
          delta: String(change.delta),
          id: String(change.id),
          lead_id: contactId,
        },
      },
    });
  }

  contact.utm.forEach((utm, index) => {
    const id = String(index + 1);
    const label = utm.utm_campaign ? `UTM Campaign: ${utm.utm_campaign}` : `UTM Source: ${utm.utm_source ?? ''}`;
    const row: Record<string, unknown> = { id, lead_id: contactId, date_added: at(utm.at), query: [] };
    for (const [key, value] of Object.entries({ referer: utm.referer, url: utm.url, ...utmColumns(utm) })) {
      if (value !== undefined) row[key] = value;
    }
    events.push({
      event: 'lead.utmtagsadded',
      eventId: `lead.utmtagsadded${id}`,
      eventLabel: label,
      eventType: TYPES['lead.utmtagsadded'] ?? '',
      timestamp: at(utm.at),
      contactId,
      details: { utmtags: row },
    });
  });

  for (const hit of deps.recorder.hits) {
    if (hit.contactId !== contact.id || hit.outcome !== 'tracked') continue;
    events.push({
      event: 'page.hit',
      eventId: `page.hit${hit.seq}`,
      eventLabel: { label: hit.title ?? hit.pageUrl ?? '', href: hit.pageUrl ?? '' },
      eventType: TYPES['page.hit'] ?? '',
      timestamp: at(hit.at),
      contactId,
      details: {
        hit: {
          id: String(hit.seq),
          url: hit.pageUrl,
          page_title: hit.title,
          referer: hit.referrer,
          date_hit: at(hit.at),
          user_agent: hit.userAgent,
          tracking_id: hit.deviceId,
        },
      },
    });
  }

  for (const submission of deps.store.forms.submissions) {
    if (submission.contactId !== contact.id || submission.validationErrors) continue;
    events.push({
      event: 'form.submitted',
      eventId: `form.submitted${submission.seq}`,
      eventLabel: { label: submission.formName, href: `/s/forms/view/${submission.formId}` },
      eventType: TYPES['form.submitted'] ?? '',
      timestamp: at(submission.at),
      contactId,
      details: {
        submission: { id: String(submission.seq), form_id: String(submission.formId), results: submission.results },
        form: { id: submission.formId, name: submission.formName },
      },
    });
  }

  if (contact.createdBy === 'api' && contact.fields.email) {
    events.push({
      event: 'lead.source.identified',
      eventId: `lead.source.identified${contact.id}`,
      eventLabel: 'Contact was identified by API',
      eventType: TYPES['lead.source.identified'] ?? '',
      timestamp: at(contact.createdAt),
      contactId,
      details: { objectDescription: 'API' },
    });
  }
  return events;
}

function utmColumns(utm: Contact['utm'][number]): Record<string, string | undefined> {
  return {
    utm_campaign: utm.utm_campaign,
    utm_content: utm.utm_content,
    utm_medium: utm.utm_medium,
    utm_source: utm.utm_source,
    utm_term: utm.utm_term,
  };
}
