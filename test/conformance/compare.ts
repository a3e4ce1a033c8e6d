/**
 * Compares the stand-in's answer with a recorded Mautic 5.1 answer the way docs/protocol.md §10
 * says the stand-in must agree: status, media type, which headers are present (with exact values
 * where Mautic's are fixed), `Set-Cookie` names and attributes, the JSON shape (keys and value
 * types, recursively: ids, dates, tokens and device ids are free) and error entries exactly.
 *
 * Returns a list of differences, each naming where it is (`body.contact.fields.all.id: …`), so a
 * failing case says what to change without a diff of two large bodies.
 */
import type { RecordedAnswer } from './exchanges.js';

/** What the stand-in answered, as the harness read it off the wire. */
export interface ActualAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** Headers whose presence is compared on every exchange. */
const PRESENCE_HEADERS = [
  'mautic-version',
  'access-control-allow-origin',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-allow-credentials',
  'access-control-max-age',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'location',
  'cache-control',
  'pragma',
];

/** Headers whose value Mautic fixes (or takes from the request): compared exactly. */
const EXACT_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-allow-credentials',
  'access-control-max-age',
  'cache-control',
  'pragma',
];

/** PHP's session cookie has a random hex name; it is compared as one kind of cookie. */
const SESSION_COOKIE = /^[0-9a-f]{32}$/;

/** Recorded bodies that the recorder left out; only their absence or presence is compared. */
const LEFT_OUT_BODY = /^\[.*left out\]$/;

export interface CompareOptions {
  /** Body paths (`contact.fields.all`) not compared, with the scenario's stated reason. */
  relaxedPaths?: readonly string[];
}

export function compareAnswers(recorded: RecordedAnswer, actual: ActualAnswer, options: CompareOptions = {}): string[] {
  const problems: string[] = [];
  if (recorded.status !== actual.status) problems.push(`status: recorded ${recorded.status}, got ${actual.status}`);

  const recordedType = mediaType(recordedHeader(recorded, 'content-type'));
  const actualType = mediaType(actual.headers.get('content-type'));
  if (recordedType !== actualType) problems.push(`media type: recorded ${recordedType || '(none)'}, got ${actualType || '(none)'}`);

  for (const name of PRESENCE_HEADERS) {
    const want = recordedHeader(recorded, name);
    const got = actual.headers.get(name);
    if ((want === null) !== (got === null)) {
      problems.push(`header ${name}: recorded ${want === null ? 'absent' : 'present'}, got ${got === null ? 'absent' : 'present'}`);
    } else if (want !== null && got !== null && EXACT_HEADERS.includes(name) && normalizeList(want) !== normalizeList(got)) {
      problems.push(`header ${name}: recorded "${want}", got "${got}"`);
    }
  }

  problems.push(...compareCookies(recordedSetCookies(recorded), actual.headers.getSetCookie()));
  problems.push(...compareBodies(recorded, recordedType, actual, options));
  return problems;
}

function recordedHeader(recorded: RecordedAnswer, name: string): string | null {
  for (const [key, value] of Object.entries(recorded.headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(', ') : value;
  }
  return null;
}

function recordedSetCookies(recorded: RecordedAnswer): string[] {
  for (const [key, value] of Object.entries(recorded.headers)) {
    if (key.toLowerCase() === 'set-cookie') return Array.isArray(value) ? value : [value];
  }
  return [];
}

function mediaType(header: string | null): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `a, b` and `a,b` are the same list; case matters for values such as origins, not here. */
function normalizeList(value: string): string {
  return value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .join(',');
}

interface CookieShape {
  name: string;
  /** Attribute names, lower-case, sorted; `path=/` and `samesite=none` keep their values. */
  attributes: string;
}

function cookieShape(line: string): CookieShape {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const rawName = pair.slice(0, Math.max(0, pair.indexOf('=')));
  const name = SESSION_COOKIE.test(rawName) ? '<php session>' : rawName;
  const shaped = attributes
    .filter((attribute) => attribute !== '')
    .map((attribute) => {
      const [key = '', value = ''] = attribute.split('=');
      const lower = key.trim().toLowerCase();
      return lower === 'path' || lower === 'samesite' ? `${lower}=${value.trim().toLowerCase()}` : lower;
    })
    .sort()
    .join('; ');
  return { name, attributes: shaped };
}

function compareCookies(recorded: string[], actual: string[]): string[] {
  const want = recorded.map(cookieShape);
  const got = actual.map(cookieShape);
  const problems: string[] = [];
  const wantNames = want.map((c) => c.name).sort().join(', ');
  const gotNames = got.map((c) => c.name).sort().join(', ');
  if (wantNames !== gotNames) {
    problems.push(`set-cookie: recorded [${wantNames}], got [${gotNames}]`);
    return problems;
  }
  for (const cookie of want) {
    const mine = got.find((c) => c.name === cookie.name);
    if (mine && mine.attributes !== cookie.attributes) {
      problems.push(`set-cookie ${cookie.name}: recorded attributes "${cookie.attributes}", got "${mine.attributes}"`);
    }
  }
  return problems;
}

function compareBodies(recorded: RecordedAnswer, recordedType: string, actual: ActualAnswer, options: CompareOptions): string[] {
  const body = recorded.body;
  const actualText = new TextDecoder().decode(actual.body);
  if (body === null || body === '') {
    return actual.body.byteLength === 0 ? [] : [`body: recorded empty, got ${actual.body.byteLength} bytes`];
  }
  if (typeof body === 'object') {
    const want = Buffer.from(body.base64, 'base64');
    return Buffer.compare(want, Buffer.from(actual.body)) === 0 ? [] : [`body: recorded ${want.byteLength} binary bytes, got different bytes`];
  }
  if (LEFT_OUT_BODY.test(body.trim())) {
    return actual.body.byteLength > 0 ? [] : ['body: recorded a body (left out of the recording), got none'];
  }
  const relaxed = options.relaxedPaths ?? [];
  if (recordedType === 'application/json') {
    const want = parseJson(body);
    const got = parseJson(actualText);
    if (want === undefined) return [];
    if (got === undefined) return [`body: recorded JSON, got unparseable text "${actualText.slice(0, 80)}"`];
    return compareShape(want, got, 'body', relaxed);
  }
  // Mautic's form answers are pages that post a JSON message to the parent frame.
  const wantMessage = postedMessage(body);
  if (wantMessage !== undefined) {
    const gotMessage = postedMessage(actualText);
    if (gotMessage === undefined) return ['body: recorded a page posting a JSON message, got none'];
    return compareShape(wantMessage, gotMessage, 'message', relaxed);
  }
  return actual.body.byteLength > 0 ? [] : ['body: recorded a body, got none'];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The JSON inside `parent.postMessage("…", '*')`, with Mautic's `\u00XX` escapes. */
export function postedMessage(page: string): unknown {
  const match = /parent\.postMessage\(("(?:[^"\\]|\\.)*")\s*,/.exec(page);
  if (!match?.[1]) return undefined;
  const inner = parseJson(match[1]);
  return typeof inner === 'string' ? parseJson(inner) : undefined;
}

/** Keys that carry ids, IPs or device ids (contacts keyed by id): compared as a list of values. */
function hasFreeKeys(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => /^\d+$/.test(key) || /^[0-9a-f.:]+$/i.test(key));
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Error entries and their field details are compared by value: they are what clients branch on. */
function isErrorList(path: string): boolean {
  return /(^|\.)errors$/.test(path);
}

function compareShape(want: unknown, got: unknown, path: string, relaxed: readonly string[]): string[] {
  const bare = path.replace(/^(body|message)\.?/, '');
  if (relaxed.some((prefix) => bare === prefix || bare.startsWith(prefix + '.') || bare.startsWith(prefix + '['))) return [];
  if (isErrorList(path) && Array.isArray(want)) return compareErrors(want, got, path);
  const wantType = typeName(want);
  const gotType = typeName(got);
  if (wantType !== gotType) return [`${path}: recorded ${wantType}, got ${gotType}`];
  if (wantType === 'array') {
    const a = want as unknown[];
    const b = got as unknown[];
    if (a.length !== b.length) return [`${path}: recorded ${a.length} items, got ${b.length}`];
    return a.flatMap((item, i) => compareShape(item, b[i], `${path}[${i}]`, relaxed));
  }
  if (wantType === 'object') {
    const a = want as Record<string, unknown>;
    const b = got as Record<string, unknown>;
    if (hasFreeKeys(a) || (Object.keys(a).length === 0 && hasFreeKeys(b))) {
      return compareShape(Object.values(a), Object.values(b), `${path}{keyed}`, relaxed);
    }
    const problems: string[] = [];
    const missing = Object.keys(a).filter((key) => !(key in b));
    const extra = Object.keys(b).filter((key) => !(key in a));
    if (missing.length > 0) problems.push(`${path}: missing keys ${missing.join(', ')}`);
    if (extra.length > 0) problems.push(`${path}: unexpected keys ${extra.join(', ')}`);
    for (const key of Object.keys(a)) {
      if (key in b) problems.push(...compareShape(a[key], b[key], path === '' ? key : `${path}.${key}`, relaxed));
    }
    return problems;
  }
  // Messages of the form answers are what a page shows: compared by value, like error entries.
  if (/^message\.(errorMessage|successMessage|success|validationErrors\..*)$/.test(path) && want !== got) {
    return [`${path}: recorded ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
  }
  return [];
}

function compareErrors(want: unknown[], got: unknown, path: string): string[] {
  if (!Array.isArray(got)) return [`${path}: recorded an error list, got ${typeName(got)}`];
  if (want.length !== got.length) return [`${path}: recorded ${want.length} errors, got ${got.length}`];
  const problems: string[] = [];
  want.forEach((entry, i) => {
    const mine = got[i] as Record<string, unknown> | undefined;
    const theirs = entry as Record<string, unknown>;
    const wantKeys = Object.keys(theirs).sort().join(',');
    const gotKeys = Object.keys(mine ?? {}).sort().join(',');
    if (wantKeys !== gotKeys) problems.push(`${path}[${i}]: recorded keys {${wantKeys}}, got {${gotKeys}}`);
    for (const key of ['code', 'message', 'type', 'details'] as const) {
      if (!(key in theirs)) continue;
      if (JSON.stringify(theirs[key]) !== JSON.stringify(mine?.[key])) {
        problems.push(`${path}[${i}].${key}: recorded ${JSON.stringify(theirs[key])}, got ${JSON.stringify(mine?.[key])}`);
      }
    }
  });
  return problems;
}
