/**
 * `GET /dwc/{slot}[?<pageview params>]` (docs/protocol.md §8, §10.14): 200
 * `{content,id,sid,device_id}` when an item for the slot matches the visitor, else 204 with no body
 * and no content type. `POST` is refused with 403, as Mautic does.
 */
import { randomBytes } from 'node:crypto';
import { parseFormLikePhp } from './body.js';
import type { ContactStore } from './contact-store.js';
import { newDeviceId } from './device-id.js';
import type { DynamicContentStore } from './dynamic-content.js';
import { phpJsonReply, textReply, type Reply, type RequestContext } from './reply.js';
import { trackingJsonHeaders } from './tracking.js';
import type { VisitorResolver } from './visitor.js';

const PREFIX = '/dwc/';

export class DwcHandler {
  constructor(
    private readonly store: ContactStore,
    private readonly visitors: VisitorResolver,
    private readonly content: DynamicContentStore,
  ) {}

  handle(ctx: RequestContext): Reply {
    const headers = trackingJsonHeaders(ctx.nowMs);
    if (ctx.method === 'POST') {
      // Mautic answers a JSON-typed 403 whose body is a page script, and starts a PHP session
      // on the way (dwc_slot_post); a short message says the same.
      const session = `${randomBytes(16).toString('hex')}=${newDeviceId().slice(0, 26)}; path=/; httponly; samesite=lax`;
      return phpJsonReply(403, { error: 'POST is not allowed on /dwc/{slot}; use GET.' }, { ...headers, 'Set-Cookie': [session] });
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return textReply(405, 'Method Not Allowed', { Allow: 'GET' });

    let slot: string;
    try {
      slot = decodeURIComponent(ctx.path.slice(PREFIX.length));
    } catch {
      return { status: 204, headers };
    }
    // Recognises the visitor like a hit does, but never creates a contact or sets a cookie.
    const params = parseFormLikePhp(ctx.rawQuery);
    const contact = this.visitors.trackedContact(ctx, params);
    const content = this.content.render(slot, contact);
    if (content === undefined) return { status: 204, headers };

    const presented = this.visitors.presentedDeviceId(ctx, params);
    const deviceId = contact && presented && this.store.findByDevice(presented)?.id === contact.id ? presented : null;
    return phpJsonReply(200, { content, id: contact?.id ?? null, sid: deviceId, device_id: deviceId }, headers);
  }
}
