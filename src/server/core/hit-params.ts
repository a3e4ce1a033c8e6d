/**
 * The relay's parameter policy (issue 12, finding 4): by default a relayed hit carries no
 * parameter that lets a browser claim an identity in Mautic. Mautic finds the contact of a hit by
 * `ct` (a clickthrough), then by its unique-identifier fields (default `email`) when an admin made
 * them publicly updatable, and also reads `mtc_id`; and it merges the query of `page_url` into the
 * hit (docs/protocol.md §6). So these names are dropped from a hit's form body or query and from the query
 * inside its `page_url`. Identification goes through `/identify` instead.
 *
 * Names are compared as PHP reads them: leading spaces dropped, `.` and space as `_`, the part
 * before `[` (`email[]` is `email`), case-insensitively (Mautic lowercases `page_url`'s keys).
 * Everything else passes byte for byte; a hit with nothing to drop is forwarded unchanged.
 */

/** Dropped whatever the configuration: a clickthrough and Mautic's contact-id parameter. */
export const ALWAYS_IDENTITY_PARAMS = ['ct', 'mtc_id'] as const;

/**
 * Keys PHP reads as they are (`[a-z0-9_]*`): the SDK's own keys, and nearly every real one (the
 * fast path). A loop over the char codes, not a regular expression: it runs for every pair of
 * every hit, and entering the regexp engine cost more than the check.
 */
function isPlainKey(rawKey: string): boolean {
  for (let i = 0; i < rawKey.length; i++) {
    const c = rawKey.charCodeAt(i);
    // a-z, 0-9, _
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

/** The key PHP (and so Mautic) sees for a raw, still-encoded form key. Never throws. */
export function phpParamName(rawKey: string): string {
  if (isPlainKey(rawKey)) return rawKey;
  // Byte-wise %XX decoding is enough to compare against ASCII names, and cannot fail.
  let name = rawKey.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  name = name.split('\0')[0]!.replace(/^ +/, '');
  const bracket = name.indexOf('[');
  if (bracket > 0) name = name.slice(0, bracket);
  return name.replace(/[ .]/g, '_').toLowerCase();
}

/**
 * `query` (a form body or a query string without `?`) without the pairs whose name is in
 * `dropped`, with the same pass over the query of each `page_url` value. Returns null when
 * nothing was dropped, so the caller forwards the original bytes.
 */
export function dropIdentityParams(query: string, dropped: ReadonlySet<string>): string | null {
  return filterParams(query, dropped, null);
}

/** Pairs `filterParams` takes out of a query by name: the name to take, and what was taken. */
export interface TakenParams {
  /** The name as PHP reads it. */
  readonly name: string;
  /** The taken pairs in order: their raw (still encoded) name and value. */
  readonly pairs: Array<[rawName: string, rawValue: string]>;
}

/**
 * The one pass over a query behind `dropIdentityParams` and `takeHitId` (hit-ids.ts), which a
 * relayed hit needs both of: each pair's name is read once. Removes the pairs named in `dropped`
 * (and cleans each `page_url`, unless nothing is dropped at all) and the pairs named
 * `take.name`, which go to `take.pairs`. Returns null when no pair was removed or changed.
 */
export function filterParams(query: string, dropped: ReadonlySet<string>, take: TakenParams | null): string | null {
  // The kept pairs are collected only from the first change on (most hits drop nothing): until
  // then they are still `query.slice(0, start - 1)`.
  let kept: string[] | null = null;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    let eq = query.indexOf('=', start);
    if (eq >= end) eq = -1;
    const rawName = query.slice(start, eq < 0 ? end : eq);
    const name = phpParamName(rawName);
    // null: the pair passes as it is; undefined: it is removed; a string: its replacement.
    let replacement: string | null | undefined = null;
    if (take !== null && name === take.name) {
      take.pairs.push([rawName, eq < 0 ? '' : query.slice(eq + 1, end)]);
      replacement = undefined;
    } else if (dropped.has(name)) replacement = undefined;
    else if (name === 'page_url' && eq >= 0 && dropped.size > 0) {
      const value = pageUrlWithout(query.slice(eq + 1, end), dropped);
      // An undecodable page_url cannot be checked, so it is not passed on.
      if (value !== null) replacement = value === undefined ? undefined : query.slice(start, eq + 1) + value;
    }
    if (replacement === null) {
      kept?.push(query.slice(start, end));
    } else {
      kept ??= start === 0 ? [] : [query.slice(0, start - 1)];
      if (replacement !== undefined) kept.push(replacement);
    }
    start = end + 1;
  }
  return kept === null ? null : kept.join('&');
}

/**
 * The encoded `page_url` value with `dropped` names removed from its query: null when nothing
 * was removed, undefined when it cannot be decoded (malformed percent-encoding).
 */
function pageUrlWithout(encoded: string, dropped: ReadonlySet<string>): string | null | undefined {
  // No query, nothing to drop (the common case needs no decoding): `?` raw or as %3F.
  if (!encoded.includes('?') && !/%3f/i.test(encoded)) return null;
  let url: string;
  try {
    url = decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  const start = url.indexOf('?');
  if (start < 0) return null;
  const hash = url.indexOf('#', start);
  const end = hash < 0 ? url.length : hash;
  const query = filterParams(url.slice(start + 1, end), dropped, null);
  if (query === null) return null;
  return encodeURIComponent(url.slice(0, start) + (query === '' ? '' : '?' + query) + url.slice(end));
}
