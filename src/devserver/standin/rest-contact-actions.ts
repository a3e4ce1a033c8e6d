/**
 * What the API does to a contact besides editing it (docs/protocol.md §10.8): UTM tags, points
 * and Do-Not-Contact. Their controllers answer in their own ways: points with `{"success":1}`,
 * DNC and UTM with the contact serialized without nulls, UTM also with tracking cookies.
 */
import { UTM_KEYS, isBlank, type ContactStore } from './contact-store.js';
import { trackingCookies } from './cookies.js';
import { newDeviceId } from './device-id.js';
import { jsonReply, type RequestContext } from './reply.js';
import {
  asFieldValue,
  contactById,
  contactNotFound,
  contactReply,
  InternalServerError,
  notFound,
  requireObject,
  ValidationError,
  type ApiRouter,
  type HandlerResult,
  type RestDeps,
} from './rest-support.js';

/** The operators of `/points/{operator}/{delta}`. */
const POINT_OPERATORS = {
  plus: (points: number, delta: number) => points + delta,
  minus: (points: number, delta: number) => points - delta,
  times: (points: number, delta: number) => points * delta,
  divide: (points: number, delta: number) => Math.trunc(points / delta),
} as const;

type PointOperator = keyof typeof POINT_OPERATORS;

export function registerContactActionRoutes(router: ApiRouter, deps: RestDeps): void {
  const actions = new ContactActions(deps);
  router
    .add('POST', '/api/contacts/{id}/utm/add', { operation: 'contact.utm', handler: (ctx, p, data) => actions.addUtm(ctx, p, data) })
    .add('POST', '/api/contacts/{id}/points/{operator}/{delta}', { operation: 'contact.points', handler: (_ctx, p) => actions.points(p) })
    .add('POST', '/api/contacts/{id}/dnc/{channel}/add', { operation: 'contact.dnc', handler: (_ctx, p, data) => actions.dnc(p, data, 'add') })
    .add('POST', '/api/contacts/{id}/dnc/{channel}/remove', { operation: 'contact.dnc', handler: (_ctx, p, data) => actions.dnc(p, data, 'remove') });
}

class ContactActions {
  constructor(private readonly deps: RestDeps) {}

  /**
   * Mautic's UTM controller also makes the contact the tracked one of the calling client: it
   * answers with a new device's `mautic_device_id` and `mtc_id` cookies (recorded: api_utm_add_200).
   */
  addUtm(ctx: RequestContext, params: Record<string, string>, data: unknown): HandlerResult {
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
    if (typeof payload.useragent === 'string') utm.userAgent = payload.useragent;
    if (typeof payload.remotehost === 'string') utm.remoteHost = payload.remotehost;
    if (typeof payload.lastActive === 'string' && !Number.isNaN(Date.parse(payload.lastActive))) {
      contact.lastActive = new Date(Date.parse(payload.lastActive)).toISOString();
    }
    store.addUtm(contact, utm);
    const deviceId = newDeviceId();
    store.addDevice(contact, deviceId);
    store.changed(contact);
    const result = contactReply(this.deps, 200, contact, {}, 'sparse');
    result.reply.headers = { ...result.reply.headers, 'Set-Cookie': trackingCookies(contact.id, deviceId, null, ctx.nowMs) };
    return result;
  }

  /**
   * A non-numeric delta is a type error inside Mautic (its generic 500); an unknown operator a
   * 400; then the contact must exist.
   */
  points(params: Record<string, string>): HandlerResult {
    const { store } = this.deps;
    if (!/^-?\d+$/.test(params.delta ?? '')) throw new InternalServerError('non-numeric points delta');
    const operator = params.operator ?? '';
    if (!Object.hasOwn(POINT_OPERATORS, operator)) throw new ValidationError({}, 400, 'Invalid operator');
    const contact = contactById(store, params.id);
    if (!contact) return contactNotFound();
    const delta = Number(params.delta);
    if (operator === 'divide' && delta === 0) throw new InternalServerError('division by zero');
    contact.points = POINT_OPERATORS[operator as PointOperator](contact.points, delta);
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
      store.changed(contact);
      return contactReply(this.deps, 200, contact, {}, 'sparse');
    }
    const before = contact.doNotContact.length;
    contact.doNotContact = contact.doNotContact.filter((entry) => entry.channel !== channel);
    store.changed(contact);
    return contactReply(this.deps, 200, contact, {}, 'sparse', { recordFound: contact.doNotContact.length < before });
  }
}
