/**
 * Posting a Mautic form from the server, as a browser would: `POST {mautic}/form/submit?formId=N`
 * with `mauticform[…]` fields and `ajax=1` (JSON answer). This is Mautic's public side, not the
 * REST API: no credentials are sent, and the contact it acts for is the one Mautic tracks through
 * the `mautic_device_id` cookie we pass. Forms need no CSRF token (docs/protocol.md §10.17).
 */
import { MAUTIC_COOKIES } from '../../protocol/wire.js';
import { MauticApiError, parseJsonLoose } from './errors.js';
import { exchange } from './http-call.js';

export interface FormSubmitOptions {
  baseUrl: string;
  formId: number;
  /** Form field alias → value (sent as `mauticform[alias]`). */
  values: Record<string, string>;
  /** The `mautic_device_id` cookie: who Mautic treats as the submitting contact. */
  deviceId?: string;
  /** The visitor's User-Agent (Mautic records it with the submission). */
  userAgent?: string;
  /** The visitor's IP, as `X-Forwarded-For` (Mautic believes it). */
  clientIp?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Ends the post early (one deadline for a whole operation). */
  signal?: AbortSignal;
}

export type FormSubmitResult =
  | { ok: true }
  | { ok: false; reason: 'validation' | 'unavailable' | 'refused'; messages: string[] };

const PATH = '/form/submit';

/** Posts the form once (never retried: a submission is not idempotent). Throws `MauticApiError` on transport failure. */
export async function submitMauticForm(options: FormSubmitOptions): Promise<FormSubmitResult> {
  const where = { method: 'POST', path: PATH };
  if (!Number.isSafeInteger(options.formId) || options.formId < 1) throw new RangeError('formId must be a positive integer');
  const body = new URLSearchParams();
  for (const [alias, value] of Object.entries(options.values)) body.append(`mauticform[${alias}]`, value);
  body.append('mauticform[formId]', String(options.formId));
  body.append('mauticform[return]', '');
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    'x-requested-with': 'XMLHttpRequest',
  };
  if (options.deviceId) headers.cookie = `${MAUTIC_COOKIES.deviceId}=${options.deviceId}`;
  if (options.userAgent) headers['user-agent'] = options.userAgent;
  if (options.clientIp) headers['x-forwarded-for'] = options.clientIp;

  const url = `${options.baseUrl.replace(/\/+$/, '')}${PATH}?formId=${options.formId}&ajax=1`;
  const { response: res, text } = await exchange({
    fetch: options.fetch ?? globalThis.fetch,
    url,
    init: { method: 'POST', headers, body: body.toString(), redirect: 'manual' },
    timeoutMs: options.timeoutMs ?? 10_000,
    signal: options.signal,
    where,
  });
  if (res.status !== 200) {
    throw new MauticApiError({ status: res.status, type: 'form_submit_failed', messages: [], ...where });
  }
  const json = parseJsonLoose(text) as { success?: unknown; validationErrors?: unknown; errorMessage?: unknown } | null;
  if (!json || typeof json !== 'object') {
    throw new MauticApiError({ status: 200, type: 'invalid_response', messages: ['the form answer is not JSON'], ...where });
  }
  if (json.success === 1 || json.success === true) return { ok: true };
  if (json.validationErrors && typeof json.validationErrors === 'object') {
    return { ok: false, reason: 'validation', messages: Object.values(json.validationErrors as Record<string, unknown>).map((m) => String(m).slice(0, 200)) };
  }
  if (typeof json.errorMessage === 'string') return { ok: false, reason: 'unavailable', messages: [json.errorMessage.slice(0, 200)] };
  return { ok: false, reason: 'refused', messages: [] };
}
