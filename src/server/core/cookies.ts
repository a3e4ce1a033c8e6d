/**
 * Cookie parsing and first-party `Set-Cookie` building. Values are never logged.
 */

const NO_COOKIES: ReadonlyMap<string, string> = new Map();

/** Parses a `Cookie` request header into name → first value (later duplicates are ignored). */
export function parseCookieHeader(header: string | null): ReadonlyMap<string, string> {
  // A first visit sends no cookie: no map to make for it.
  if (!header || header.length > 16384) return NO_COOKIES;
  const out = new Map<string, string>();
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
 * Runs for every cookie of every relayed answer, so it scans the header in place: the name is
 * checked first, and only `Max-Age` and `Expires` (7 letters) are read of the attributes.
 */
export function rewriteUpstreamSetCookie(
  header: string,
  allowed: ReadonlySet<string>,
  attrs: { path: string; secure: boolean },
): string | null {
  let semi = header.indexOf(';');
  if (semi < 0) semi = header.length;
  const eq = header.indexOf('=');
  // No `=` before the first `;`, or an empty name.
  if (eq <= 0 || eq > semi) return null;
  const name = header.slice(0, eq).trim();
  if (!allowed.has(name)) return null;
  const value = header.slice(eq + 1, semi).trim();
  if (!COOKIE_VALUE.test(value)) return null;
  let maxAge: number | undefined;
  let expires: string | undefined;
  for (let start = semi + 1; start < header.length; ) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    let i = header.indexOf('=', start);
    if (i < 0 || i > end) i = end;
    const key = header.slice(start, i).trim();
    if (key.length === 7) {
      const lower = key.toLowerCase();
      const val = i < end ? header.slice(i + 1, end).trim() : '';
      if (lower === 'max-age' && /^-?\d{1,12}$/.test(val)) maxAge = Number(val);
      else if (lower === 'expires' && /^[A-Za-z0-9 ,:\-]{1,64}$/.test(val)) expires = val;
    }
    start = end + 1;
  }
  return serializeCookie(name, value, { path: attrs.path, secure: attrs.secure, maxAge, expires });
}
