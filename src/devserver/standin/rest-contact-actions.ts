/**
 * What the API does to a contact besides editing it (PROTOCOL §7): UTM tags, points,
 * Do-Not-Contact, and segment membership.
 */
import { UTM_KEYS, isBlank, type ContactStore } from './contact-store.js';
import { jsonReply } from './reply.js';
import {
  asFieldValue,
  contactById,
  contactReply,
  notFound,
  requireObject,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';

export function registerContactActionRoutes(router: ApiRouter, deps: RestDeps): void {
  const actions = new ContactActions(deps);
  router
    .add('POST', '/api/contacts/{id}/utm/add', { operation: 'contact.utm', handler: (_ctx, p, data) => actions.addUtm(p, data) })
    .add('POST', '/api/contacts/{id}/points/plus/{n}', { operation: 'contact.points', handler: (_ctx, p) => actions.points(p, 1) })
    .add('POST', '/api/contacts/{id}/points/minus/{n}', { operation: 'contact.points', handler: (_ctx, p) => actions.points(p, -1) })
    .add('POST', '/api/contacts/{id}/dnc/{channel}/add', { operation: 'contact.dnc', handler: (_ctx, p, data) => actions.dnc(p, data, 'add') })
    .add('POST', '/api/contacts/{id}/dnc/{channel}/remove', { operation: 'contact.dnc', handler: (_ctx, p, data) => actions.dnc(p, data, 'remove') })
    .add('POST', '/api/segments/{sid}/contact/{id}/add', { operation: 'segment.add', handler: (_ctx, p) => actions.segment(p, 'add') })
    .add('POST', '/api/segments/{sid}/contact/{id}/remove', { operation: 'segment.remove', handler: (_ctx, p) => actions.segment(p, 'remove') });
}

class ContactActions {
  constructor(private readonly deps: RestDeps) {}

  addUtm(params: Record<string, string>, data: unknown): HandlerResult {
    const { store } = this.deps;
    const contact = contactById(store, params.id);
    if (!contact) return notFound();
    const payload = requireObject(data);
    const utm: Parameters<ContactStore['addUtm']>[1] = { source: 'api' };
    for (const key of UTM_KEYS) {
      const value = payload[key];
      if (!isBlank(asFieldValue(value), false)) utm[key] = String(value);
    }
    if (typeof payload.url === 'string') utm.url = payload.url;
    if (typeof payload.referer === 'string') utm.referer = payload.referer;
    store.addUtm(contact, utm);
    store.changed(contact);
    return contactReply(this.deps, 200, contact);
  }

  points(params: Record<string, string>, sign: 1 | -1): HandlerResult {
    const { store } = this.deps;
    const contact = contactById(store, params.id);
    const delta = Number(params.n);
    if (!contact || !/^\d+$/.test(params.n ?? '')) return notFound();
    contact.points += sign * delta;
    store.changed(contact);
    return { reply: jsonReply(200, { success: 1 }), contactId: contact.id };
  }

  dnc(params: Record<string, string>, data: unknown, action: 'add' | 'remove'): HandlerResult {
    const { store } = this.deps;
    const contact = contactById(store, params.id);
    const channel = params.channel ?? '';
    if (!contact) return notFound();
    if (action === 'add') {
      const payload = requireObject(data);
      const reason = Number(payload.reason ?? 3);
      store.addDoNotContact(contact, {
        channel,
        reason: [1, 2, 3].includes(reason) ? reason : 3,
        comments: typeof payload.comments === 'string' ? payload.comments : '',
      });
    } else {
      contact.doNotContact = contact.doNotContact.filter((entry) => entry.channel !== channel);
    }
    store.changed(contact);
    return contactReply(this.deps, 200, contact);
  }

  /** Segments are not modelled beyond their ids: any positive integer is a segment. */
  segment(params: Record<string, string>, action: 'add' | 'remove'): HandlerResult {
    const { store } = this.deps;
    const contact = contactById(store, params.id);
    const segmentId = Number(params.sid);
    if (!contact || !/^\d+$/.test(params.sid ?? '') || segmentId < 1) return notFound();
    if (action === 'add' && !contact.segments.includes(segmentId)) contact.segments.push(segmentId);
    if (action === 'remove') contact.segments = contact.segments.filter((id) => id !== segmentId);
    store.changed(contact);
    return { reply: jsonReply(200, { success: 1 }), contactId: contact.id };
  }
}
