/**
 * Cookie parsing and first-party `Set-Cookie` building. Values are never logged.
 */

/** Parses a `Cookie` request header into name → first value (later duplicates are ignored). */
export function parseCookieHeader(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header || header.length > 16384) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export interface CookieAttributes {
  path: string;
  secure: boolean;
  httpOnly?: boolean;
  /** Seconds; omitted = session cookie. 0 deletes. */
  maxAge?: number;
  /** Used when the upstream sent `Expires` but no `Max-Age`. */
  expires?: string;
}

/** A first-party cookie: never a Domain, always SameSite=Lax. */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes): string {
  let out = `${name}=${value}; Path=${attrs.path}`;
  if (attrs.maxAge !== undefined) out += `; Max-Age=${Math.max(0, Math.floor(attrs.maxAge))}`;
  else if (attrs.expires) out += `; Expires=${attrs.expires}`;
  out += '; SameSite=Lax';
  if (attrs.secure) out += '; Secure';
  if (attrs.httpOnly) out += '; HttpOnly';
  return out;
}

/** Safe cookie value characters (RFC 6265 cookie-octet, minus a few we never need). */
const COOKIE_VALUE = /^[A-Za-z0-9!#$%&'()*+\-./:<>?@[\]^_`{|}~]{0,4096}$/;

/**
 * Rewrites one upstream `Set-Cookie` into a first-party cookie, or returns null when the cookie
 * is not in `allowed` (Mautic's session cookies and anything else stay on Mautic's side).
 */
export function rewriteUpstreamSetCookie(
  header: string,
  allowed: ReadonlySet<string>,
  attrs: { path: string; secure: boolean },
): string | null {
  const parts = header.split(';');
  const pair = parts[0];
  if (!pair) return null;
  const eq = pair.indexOf('=');
  if (eq <= 0) return null;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (!allowed.has(name) || !COOKIE_VALUE.test(value)) return null;
  let maxAge: number | undefined;
  let expires: string | undefined;
  for (let n = 1; n < parts.length; n++) {
    const attr = parts[n]!;
    const i = attr.indexOf('=');
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : attr.slice(i + 1).trim();
    if (key === 'max-age' && /^-?\d{1,12}$/.test(val)) maxAge = Number(val);
    else if (key === 'expires' && /^[A-Za-z0-9 ,:\-]{1,64}$/.test(val)) expires = val;
  }
  return serializeCookie(name, value, { path: attrs.path, secure: attrs.secure, maxAge, expires });
}
