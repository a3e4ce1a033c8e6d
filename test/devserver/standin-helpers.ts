/**
 * Shared helpers for the stand-in tests: real HTTP against a started stand-in on 127.0.0.1.
 */
import type { Standin } from '../../src/devserver/index.js';

export const FORM = 'application/x-www-form-urlencoded';

/** Form-encodes like the SDK: encodeURIComponent on keys and values, joined by '&'. */
export function formBody(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}

/** A pageview POST as the SDK sends it. */
export function postHit(
  mautic: Standin,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${mautic.url}/mtc/event`, {
    method: 'POST',
    headers: { 'Content-Type': FORM, 'X-Requested-With': 'XMLHttpRequest', ...headers },
    body: formBody(params),
  });
}

export interface HitJson {
  success: number;
  id: number | null;
  sid: string | null;
  device_id: string | null;
  events: unknown;
}

export async function postHitJson(
  mautic: Standin,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<HitJson> {
  const response = await postHit(mautic, params, headers);
  if (response.status !== 200) throw new Error(`POST /mtc/event answered ${response.status}`);
  return (await response.json()) as HitJson;
}

/** `Set-Cookie` lines of a response. */
export function setCookies(response: Response): string[] {
  return response.headers.getSetCookie();
}
