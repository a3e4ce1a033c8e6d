/**
 * One HTTP exchange with Mautic, shared by the token endpoint, the REST client and the form post:
 * a fetch bounded by its own timeout and by an optional outer signal (the operation's deadline),
 * whose transport failures become `MauticTimeoutError` / `MauticNetworkError`, and whose error
 * answers become the error class of their failure (errors.ts). Web-standard only.
 */
import { MAUTIC_VERSION_HEADER, RATE_LIMIT_HEADERS } from '../../protocol/rest.js';
import { classifyApiError, MauticNetworkError, MauticTimeoutError, parseErrorBody, parseJsonLoose, type MauticApiError } from './errors.js';

/** Names a call in errors: method and path without its query (a search carries an email). */
export interface CallSite {
  method: string;
  path: string;
}

export interface ExchangeOptions {
  fetch: typeof fetch;
  url: string;
  init: RequestInit;
  /** This attempt's own limit. */
  timeoutMs: number;
  /** The operation's deadline: aborting it ends the attempt at once. */
  signal?: AbortSignal | null;
  where: CallSite;
}

export interface Exchange {
  response: Response;
  text: string;
}

/** Sends one request and reads its whole body; never retries. */
export async function exchange(options: ExchangeOptions): Promise<Exchange> {
  const { where } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const outer = options.signal ?? null;
  const onAbort = (): void => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  try {
    // `redirect: 'error'` done by hand: workerd's fetch does not implement it (it throws).
    const refuseRedirect = options.init.redirect === 'error';
    const init: RequestInit = { ...options.init, signal: controller.signal, ...(refuseRedirect ? { redirect: 'manual' } : {}) };
    // Called unbound: workerd's fetch throws "Illegal invocation" when `this` is another object.
    const fetchImpl = options.fetch;
    const response = await fetchImpl(options.url, init);
    if (refuseRedirect && (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400))) {
      void response.body?.cancel().catch(() => undefined);
      // A redirect from Mautic's API is a wrong base URL (http → https, a moved install): never followed.
      throw new MauticNetworkError(where);
    }
    const text = await response.text();
    return { response, text };
  } catch (error) {
    if (error instanceof MauticNetworkError) throw error;
    throw controller.signal.aborted ? new MauticTimeoutError(where) : new MauticNetworkError(where);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

/** `Mautic-Version` when it looks like a version (API controllers only send it). */
export function mauticVersionOf(response: Response): string | null {
  const version = response.headers.get(MAUTIC_VERSION_HEADER);
  return version && /^[0-9A-Za-z.+-]{1,32}$/.test(version) ? version : null;
}

/**
 * The error an answer stands for, or null when it is a success: a non-2xx status, or a 2xx whose
 * body still carries Mautic's `errors` (then the entry's code is the status).
 */
export function errorOfAnswer(response: Response, json: unknown, where: CallSite): MauticApiError | null {
  const error = parseErrorBody(json);
  if (response.ok && !error) return null;
  const status = response.ok ? (error?.code ?? response.status) : response.status;
  const reset = Number(response.headers.get(RATE_LIMIT_HEADERS.reset));
  return classifyApiError({
    status,
    type: error?.type ?? null,
    messages: error?.messages ?? [],
    details: error?.details ?? {},
    ...where,
    mauticVersion: mauticVersionOf(response),
    rateLimitResetAt: status === 429 && Number.isFinite(reset) && reset > 0 ? reset * 1000 : null,
  });
}

/** Parses an answer's JSON body (Mautic may label it text/html); null when it is not JSON. */
export function jsonOf(text: string): unknown {
  return parseJsonLoose(text);
}
