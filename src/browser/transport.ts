/**
 * The ways a hit reaches Mautic. Each takes a URL (and body) and returns a Promise of the outcome,
 * so a later retry queue or consent layer can wrap them without touching the tracker.
 */
import { FORM_CONTENT_TYPE, REQUESTED_WITH_HEADER, REQUESTED_WITH_VALUE } from '../protocol/wire.js';

/** `fetch` with cookies included; a `POST` when there is a body. */
export const request = (url: string, signal: AbortSignal | undefined, headers: Record<string, string>, body?: string): Promise<Response> =>
  fetch(url, { method: body && 'POST', body, headers, credentials: 'include', signal });

/** Mautic answers 200 with JSON; anything else (or an unparseable body) rejects. */
const mauticJson = (response: Response): Promise<unknown> =>
  response.status == 200 ? response.json() : Promise.reject();

/**
 * `POST` a form-encoded hit (§3) with the header Mautic's CORS middleware requires (§6). Resolves
 * the parsed JSON of a 200 answer; rejects on anything else (other status, network error, CORS
 * refusal, unparseable body, abort), which sends the caller to the pixel.
 */
export const postHit = (url: string, body: string, signal: AbortSignal): Promise<unknown> =>
  request(url, signal, { 'Content-Type': FORM_CONTENT_TYPE, [REQUESTED_WITH_HEADER]: REQUESTED_WITH_VALUE }, body).then(
    mauticJson,
  );

/**
 * `GET` a Mautic JSON answer with the header that makes Mautic add its CORS headers (§10.11):
 * `{base}/mtc` (the visitor's `{id, sid, device_id}` after a pixel hit) or `{base}/dwc/{slot}`.
 * Resolves the parsed JSON of a 200; rejects on anything else, a 204 included.
 */
export const getJson = (url: string, signal?: AbortSignal): Promise<unknown> =>
  request(url, signal, { [REQUESTED_WITH_HEADER]: REQUESTED_WITH_VALUE }).then(mauticJson);

/**
 * `POST {base}/identify` as JSON to our proxy; any 2xx counts. The answer is read to its end
 * before the send settles (settling aborts the request's signal, which would otherwise cut the
 * answer off and show a successful identify as cancelled in the browser's network panel).
 */
export const postJson = (url: string, body: string, signal: AbortSignal): Promise<unknown> =>
  request(url, signal, { 'Content-Type': 'application/json' }, body).then((response) =>
    response.text().then(() => response.ok || Promise.reject()),
  );

/**
 * `GET` an image; resolves when it loaded, rejects on an error or when `signal` aborts. The
 * answer cannot be read, so it teaches no ids.
 */
export const loadPixel = (url: string, signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = resolve;
    image.onerror = signal.onabort = () => reject();
    image.src = url;
  });

/**
 * Hands a hit to the browser for delivery after the page is gone. CORS-simple on purpose (a
 * form-encoded Blob, no custom header), since no preflight can happen during unload.
 */
export const beaconHit = (url: string, body: string): boolean | undefined => {
  try {
    return navigator.sendBeacon(url, new Blob([body], { type: FORM_CONTENT_TYPE }));
  } catch {
    // No sendBeacon, or the browser refused the size: undefined, as falsy as false.
  }
};
