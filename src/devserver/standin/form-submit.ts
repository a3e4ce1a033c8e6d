/**
 * The public form post, `POST /form/submit?formId=N` with `mauticform[…]` fields (docs/protocol.md §10.17, §10.18).
 * No CSRF token and no bot filter, like Mautic. Which contact the post lands on follows Mautic 5.1:
 * the tracked contact (device cookie) is taken; if the submitted unique identifier values belong
 * to another contact, the two are MERGED when the tracked one has no conflicting value (the tracked
 * one survives in 5.x–7.0, see {@link MergeSurvivor}), or the browser SWITCHES to the found contact
 * without a merge (new device cookie, the old device's hits move) when both have different values.
 * Answers: `ajax=1` → JSON; `mauticform[messenger]=1` → an HTML page posting the JSON to its parent;
 * otherwise a 302 to `mauticform[return]` or `/form/message`. GET → 403.
 */
import { randomBytes } from 'node:crypto';
import { MAUTIC_COOKIES } from '../../protocol/wire.js';
import { isFormContentType, parseFormLikePhp } from './body.js';
import { isBlank, type ContactStore } from './contact-store.js';
import { parseCookies, trackingCookies } from './cookies.js';
import { newDeviceId } from './device-id.js';
import { NON_INPUT_TYPES, type FormDefinition } from './forms.js';
import type { Recorder } from './recorder.js';
import { phpJsonReply, type Reply, type RequestContext } from './reply.js';
import type { Contact, FormSubmissionRecord } from './types.js';
import type { VisitorResolver } from './visitor.js';

/** 'tracked': Mautic 5.x–7.0; 'found': after Mautic fix #16426; 'oldest': Mautic 4.x. */
export type MergeSurvivor = 'tracked' | 'found' | 'oldest';

const NOT_AVAILABLE = 'This form is no longer available.';

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=UTF-8',
  'Cache-Control': 'max-age=0, must-revalidate, private',
};

interface Outcome {
  body: Record<string, unknown>;
  cookies: string[];
}

export class FormSubmitHandler {
  /** PHP's session cookie name: 32 hex characters, fixed per install. */
  private readonly sessionName = randomBytes(16).toString('hex');

  constructor(
    private readonly store: ContactStore,
    private readonly recorder: Recorder,
    private readonly visitors: VisitorResolver,
    private readonly survivor: MergeSurvivor,
  ) {}

  handle(ctx: RequestContext): Reply {
    const expires = new Date(ctx.nowMs).toUTCString();
    if (ctx.method !== 'POST') {
      return {
        status: 403,
        headers: { ...PAGE_HEADERS, Expires: expires, 'Set-Cookie': [this.sessionCookie()] },
        body: '<!DOCTYPE html>\n<html><head><title>Forbidden</title></head><body>Forbidden</body></html>\n',
      };
    }
    const query = parseFormLikePhp(ctx.rawQuery);
    const post = isFormContentType(ctx.headers['content-type']) ? mauticFormValues(parseFormLikePhp(ctx.bodyText)) : {};
    const outcome = this.submit(ctx, query, post);
    const headers: Record<string, string | string[]> = { ...PAGE_HEADERS, Expires: expires };
    if (outcome.cookies.length > 0) headers['Set-Cookie'] = outcome.cookies;

    if (isTruthy(query.ajax)) return phpJsonReply(200, outcome.body, { ...headers, 'Content-Type': 'application/json' });
    if (!isBlank(post.messenger, false)) {
      return { status: 200, headers, body: messengerPage(outcome.body) };
    }
    // The redirect keeps the message in PHP's session (a flash message), so the session starts.
    const target = redirectTarget(outcome, post.return);
    headers['Set-Cookie'] = [...outcome.cookies, this.sessionCookie()];
    return { status: 302, headers: { ...headers, Location: target }, body: redirectPage(target) };
  }

  private sessionCookie(): string {
    const id = randomBytes(16).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 26);
    return `${this.sessionName}=${id}; path=/; httponly; samesite=lax`;
  }

  private submit(ctx: RequestContext, query: Record<string, string>, post: Record<string, string>): Outcome {
    const rawId = post.formId ?? post.formid ?? query.formId ?? '';
    const form = /^\d+$/.test(rawId) ? this.store.forms.get(Number(rawId)) : undefined;
    if (!form || !form.isPublished) return { body: { success: 0, errorMessage: NOT_AVAILABLE }, cookies: [] };

    const at = new Date(ctx.nowMs).toISOString();
    const userAgent = headerText(ctx.headers['user-agent']);
    // The contact tracker of a hit (device cookie, then the legacy session cookie); no parameters.
    const tracked = this.visitors.trackedContact(ctx, {});
    const cookieDevice = parseCookies(ctx.headers.cookie)[MAUTIC_COOKIES.deviceId] || undefined;

    const inputs = form.fields.filter((field) => !NON_INPUT_TYPES.has(field.type));
    const results: Record<string, string> = {};
    const validationErrors: Record<string, string> = {};
    for (const field of inputs) {
      const value = (post[field.alias] ?? '').trim();
      results[field.alias] = value;
      if (field.isRequired && value === '') validationErrors[field.alias] = `'${field.label}' is required.`;
    }

    const base = { at, formId: form.id, formName: form.alias, results, trackedContactId: tracked?.id ?? null };
    if (Object.keys(validationErrors).length > 0) {
      // Mautic still tracks the visitor: a browser without a known device gets a contact and cookies.
      const { contact, cookies } = tracked ? { contact: tracked, cookies: [] } : this.newVisitor(ctx, userAgent);
      this.record({ ...base, contactId: contact.id, resolution: tracked ? 'tracked' : 'created', validationErrors });
      return { body: { success: 0, validationErrors, formName: form.alias }, cookies };
    }

    const data: Record<string, string> = {};
    for (const field of inputs) {
      const value = results[field.alias] ?? '';
      if (field.mappedObject === 'contact' && field.mappedField && value !== '') data[field.mappedField] = value;
    }
    const found = this.findByUniqueFields(data, tracked?.id);

    let contact: Contact;
    let cookies: string[] = [];
    let resolution: FormSubmissionRecord['resolution'];
    if (!found) {
      if (tracked) {
        contact = tracked;
        resolution = 'tracked';
      } else {
        ({ contact, cookies } = this.newVisitor(ctx, userAgent));
        resolution = 'created';
      }
    } else if (!tracked) {
      contact = found;
      cookies = this.newDevice(contact, ctx, userAgent);
      resolution = 'found';
    } else if (this.conflicts(tracked, data)) {
      // Both have their own values: the browser becomes the found contact, nobody is merged.
      contact = found;
      cookies = this.newDevice(contact, ctx, userAgent);
      if (cookieDevice) this.recorder.reassignDeviceHits(cookieDevice, contact.id);
      resolution = 'switched';
    } else {
      const winner = this.winner(tracked, found);
      const loser = winner === tracked ? found : tracked;
      this.store.merge(winner, loser, 'form', form.id);
      this.recorder.reassignHits(loser.id, winner.id);
      contact = winner;
      if (winner !== tracked && cookieDevice) cookies = trackingCookies(winner.id, cookieDevice, null, ctx.nowMs);
      resolution = 'merged';
    }

    this.store.writeFields(contact, data, { overwriteWithBlank: false, zeroIsBlank: false });
    this.applyActions(form, contact);
    this.store.addIp(contact, ctx.ip);
    contact.lastActive = at;
    this.store.changed(contact);
    this.record({ ...base, contactId: contact.id, resolution });

    const body: Record<string, unknown> = { success: 1, results };
    if (form.postAction === 'redirect' && form.postActionProperty) body.redirect = form.postActionProperty;
    else body.successMessage = form.postActionProperty ?? '';
    body.formName = form.alias;
    return { body, cookies };
  }

  /** The newest contact (other than the tracked one) with any submitted unique identifier value. */
  private findByUniqueFields(data: Record<string, string>, trackedId: number | undefined): Contact | undefined {
    let found: Contact | undefined;
    for (const alias of this.store.fields.uniqueAliases) {
      const value = data[alias];
      if (!value) continue;
      const candidate = this.store.findNewestByField(alias, value, trackedId);
      if (candidate && (!found || candidate.id > found.id)) found = candidate;
    }
    return found;
  }

  /** The tracked contact already has a different value for a submitted unique identifier. */
  private conflicts(tracked: Contact, data: Record<string, string>): boolean {
    return this.store.fields.uniqueAliases.some((alias) => {
      const submitted = data[alias];
      const own = tracked.fields[alias];
      return Boolean(submitted && own && own.trim().toLowerCase() !== submitted.trim().toLowerCase());
    });
  }

  private winner(tracked: Contact, found: Contact): Contact {
    if (this.survivor === 'found') return found;
    if (this.survivor === 'oldest') return tracked.id < found.id ? tracked : found;
    return tracked;
  }

  private newVisitor(ctx: RequestContext, userAgent: string): { contact: Contact; cookies: string[] } {
    const contact = this.store.create('form');
    return { contact, cookies: this.newDevice(contact, ctx, userAgent) };
  }

  private newDevice(contact: Contact, ctx: RequestContext, userAgent: string): string[] {
    const deviceId = newDeviceId();
    this.store.addDevice(contact, deviceId, userAgent);
    return trackingCookies(contact.id, deviceId, null, ctx.nowMs);
  }

  private applyActions(form: FormDefinition, contact: Contact): void {
    for (const action of form.actions) {
      const props = action.properties;
      if (action.type === 'lead.changetags') {
        const add = stringList(props.add_tags);
        const remove = stringList(props.remove_tags).map((tag) => `-${tag}`);
        this.store.applyTags(contact, [...add, ...remove]);
      } else if (action.type === 'lead.pointschange') {
        const operator = String(props.operator ?? 'plus');
        const points = Number(props.points ?? 0);
        if ((operator === 'plus' || operator === 'minus' || operator === 'times' || operator === 'divide') && Number.isFinite(points)) {
          this.store.changePoints(contact, operator, points, { eventName: `${form.name}: ${action.name}`, actionName: 'Form' });
        }
      }
    }
  }

  private record(submission: Omit<FormSubmissionRecord, 'seq'>): void {
    this.store.recordSubmission(submission);
  }
}

/** `mauticform[email]` → `email`. */
function mauticFormValues(params: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const match = /^mauticform\[([^\]]+)\]$/.exec(key);
    if (match?.[1]) values[match[1]] = value;
  }
  return values;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function redirectTarget(outcome: Outcome, returnUrl: string | undefined): string {
  if (typeof outcome.body.redirect === 'string') return outcome.body.redirect;
  if (returnUrl && /^https?:\/\//i.test(returnUrl)) return returnUrl;
  return '/form/message';
}

/** PHP's json_encode (slashes and non-ASCII escaped), then Twig's `escape('js')`. */
export function jsEscapedJson(value: unknown): string {
  const json = JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const short: Record<string, string> = { '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return json.replace(/[^a-zA-Z0-9,._]/g, (c) => short[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function messengerPage(body: Record<string, unknown>): string {
  return (
    '<html>\n    <head>\n        <script type="text/javascript">\n' +
    `            parent.postMessage("${jsEscapedJson(body)}", '*');\n` +
    '        </script>\n        \n    </head>\n    <body></body>\n</html>\n'
  );
}

function redirectPage(target: string): string {
  const url = target.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    '<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset="UTF-8" />\n' +
    `        <meta http-equiv="refresh" content="0;url='${url}'" />\n\n` +
    `        <title>Redirecting to ${url}</title>\n    </head>\n    <body>\n` +
    `        Redirecting to <a href="${url}">${url}</a>.\n    </body>\n</html>`
  );
}
