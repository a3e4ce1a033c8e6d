/**
 * The core's small parts on their own: binding signatures, identity tokens, cookie rewriting and log redaction (including the `'console'` logger).
 */
import { describe, expect, it } from 'vitest';
import { BindingSigner } from '../../src/server/core/binding.js';
import { rewriteUpstreamSetCookie } from '../../src/server/core/cookies.js';
import { IdentityTokenVerifier } from '../../src/server/core/identity-token.js';
import { dropIdentityParams, phpParamName } from '../../src/server/core/hit-params.js';
import { takeHitId } from '../../src/server/core/hit-ids.js';
import { createLog } from '../../src/server/core/logger.js';
import { base64UrlDecode, base64UrlEncode, base64Utf8, hmacSign, importHmacKey } from '../../src/server/core/crypto.js';
import { hasPathTrick } from '../../src/server/core/route-table.js';
import { Deadline } from '../../src/server/core/deadline.js';
import {
  createMauticProxy,
  MauticApiDisabledError,
  MauticApiError,
  MauticBasicAuthDisabledError,
  MauticForbiddenError,
  MauticInvalidClientError,
  MauticInvalidCredentialsError,
  MauticServerError,
  MauticNotFoundError,
  MauticUnauthorizedClientError,
  MauticValidationError,
  mintIdentityToken,
} from '../../src/server/index.js';
import { classifyApiError } from '../../src/server/rest/errors.js';
import { findLeaks, installCapture } from './support/capture.js';
import { DEVICE } from './support/fake-upstream.js';
import { ALL_SECRETS, SECRET, TOKEN_SECRET } from './support/secrets.js';

const capture = installCapture({ expectLogs: true });

describe('base64 (btoa/atob)', () => {
  it('encodes and decodes base64url as Node does, for every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 255);
      const text = base64UrlEncode(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(base64UrlDecode(text)).toEqual(new Uint8Array(bytes));
    }
  });

  it('decodes strictly: no padding, whitespace, standard alphabet or impossible length', () => {
    for (const bad of ['AAAA=', 'AA AA', 'AA+A', 'AA/A', 'A', 'AAAAA', 'AA\nA', 'é']) expect(base64UrlDecode(bad), bad).toBeNull();
    expect(base64UrlDecode('A'.repeat(4100))).toBeNull();
  });

  it('decodes only the canonical spelling: unused low bits of the last character must be zero', () => {
    // 'AB' and 'AAB' decode (by atob) to the same bytes as 'AA' and 'AAA': a second spelling
    // of a signature would be a second spend key for one single-use token.
    expect(atob('AB')).toBe(atob('AA'));
    expect(base64UrlDecode('AA')).toEqual(new Uint8Array([0]));
    for (const bad of ['AB', 'AP', 'AAB', 'AAD']) expect(base64UrlDecode(bad), bad).toBeNull();
    const sig = base64UrlEncode(Uint8Array.from({ length: 32 }, (_, i) => i * 7));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const spellings = [0, 1, 2, 3].map((low) => sig.slice(0, -1) + alphabet[(last & ~3) | low]);
    expect(spellings.filter((text) => base64UrlDecode(text) !== null)).toEqual([sig]);
  });

  it('encodes UTF-8 text as padded standard base64 (HTTP Basic)', () => {
    for (const text of ['user:pass', 'jürgen:pässwörd✓', 'a', 'ab']) expect(base64Utf8(text)).toBe(Buffer.from(text, 'utf8').toString('base64'));
  });
});

describe('binding signatures', () => {
  it('verifies its own binding and rejects tampering, other secrets, age and future dates', async () => {
    let now = Date.UTC(2026, 0, 1);
    const signer = new BindingSigner(SECRET, 3600, () => now);
    const value = await signer.sign(42, DEVICE);
    capture.sensitive.add(value);
    expect(await signer.verify(value)).toEqual({ contactId: 42, deviceId: DEVICE, issuedAt: now / 1000 });
    const other = new BindingSigner('another-binding-secret-0123456789abcdef', 3600, () => now);
    expect(await other.verify(value)).toBeNull();
    const [v, , dev, iat, sig] = value.split('.');
    for (const bad of [`${v}.43.${dev}.${iat}.${sig}`, `${v}.42.${dev}x.${iat}.${sig}`, `${v}.42.${dev}.${iat}.${sig!.slice(0, -1)}A`, `${v}.042.${dev}.${iat}.${sig}`, `${v}.42.${dev}.${iat}`, '', 'v1....', `${value}.x`]) {
      expect(await signer.verify(bad), bad).toBeNull();
    }
    now += 3601 * 1000;
    expect(await signer.verify(value)).toBeNull();
    const future = new BindingSigner(SECRET, 3600, () => now + 3_600_000);
    expect(await signer.verify(await future.sign(42, DEVICE))).toBeNull();
  });

  it('answers without an HMAC only what it already knows: the same values and verdicts as sign and verify', async () => {
    let now = Date.UTC(2026, 0, 1);
    const signer = new BindingSigner(SECRET, 3600, () => now);
    expect(signer.signedNow(42, DEVICE)).toBeUndefined();
    const value = await signer.sign(42, DEVICE);
    capture.sensitive.add(value);
    expect(signer.signedNow(42, DEVICE)).toBe(value);
    expect(signer.signedNow(43, DEVICE)).toBeUndefined();
    // Well-formed but never verified: only the HMAC can tell, so `verifyKnown` does not guess.
    expect(signer.verifyKnown(value)).toBeUndefined();
    for (const bad of [undefined, '', 'v1....', `${value}.x`, `v2${value.slice(2)}`, 'x'.repeat(300)]) expect(signer.verifyKnown(bad), String(bad)).toBeNull();
    const forged = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    expect(signer.verifyKnown(forged)).toBeUndefined();
    expect(await signer.verify(forged)).toBeNull();
    // A forgery is never remembered: it still needs the HMAC (and fails it) next time.
    expect(signer.verifyKnown(forged)).toBeUndefined();
    expect(await signer.verify(value)).toEqual({ contactId: 42, deviceId: DEVICE, issuedAt: now / 1000 });
    expect(signer.verifyKnown(value)).toEqual({ contactId: 42, deviceId: DEVICE, issuedAt: now / 1000 });
    // Remembered, but its age is checked on every use.
    now += 3601 * 1000;
    expect(signer.verifyKnown(value)).toBeNull();
    // A new second is a new payload: its signature is not known yet.
    expect(signer.signedNow(42, DEVICE)).toBeUndefined();
  });
});

describe('identity tokens', () => {
  it('round-trips, binds the email (case-insensitive) and expires', async () => {
    const now = Date.UTC(2026, 0, 1);
    const token = await mintIdentityToken({ email: ' Jane@Example.com ', secret: TOKEN_SECRET, ttlSeconds: 60, now });
    capture.sensitive.add(token);
    expect(token).toMatch(/^v2\.\d+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now + 59_000).check(token, 'jane@example.com')).toBe('valid');
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now + 60_000).check(token, 'jane@example.com')).toBe('expired');
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(token, 'john@example.com')).toBe('invalid');
    const [v, exp, nonce, sig] = token.split('.');
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(`${v}.${Number(exp) + 1000}.${nonce}.${sig}`, 'jane@example.com')).toBe('invalid');
    const otherNonce = `${nonce!.slice(1)}${nonce!.startsWith('A') ? 'B' : 'A'}`;
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(`${v}.${exp}.${otherNonce}.${sig}`, 'jane@example.com')).toBe('invalid');
    // Two tokens for one email in the same second differ (each is accepted once by the proxy).
    const twin = await mintIdentityToken({ email: 'jane@example.com', secret: TOKEN_SECRET, ttlSeconds: 60, now });
    capture.sensitive.add(twin);
    expect(twin).not.toBe(token);
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(twin, 'jane@example.com')).toBe('valid');
    await expect(mintIdentityToken({ email: 'a@b.co', secret: 'short' })).rejects.toThrow(RangeError);
  });

  it('a binding signature is not accepted as a token (domain separation)', async () => {
    const signer = new BindingSigner(SECRET, 3600);
    const binding = await signer.sign(1, '');
    const [, , , iat, sig] = binding.split('.');
    expect(await new IdentityTokenVerifier(SECRET).check(`v1.${iat}.${sig}`, 'a@b.co')).toBe('invalid');
  });
});

describe('identity tokens of the earlier format', () => {
  it('a v1 token (no nonce) minted by an older backend is still accepted', async () => {
    const now = Date.UTC(2026, 0, 1);
    const exp = now / 1000 + 60;
    const sig = await hmacSign(await importHmacKey(TOKEN_SECRET), `mautic-tracker/identify/v1|jane@example.com|${exp}`);
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(`v1.${exp}.${sig}`, 'jane@example.com')).toBe('valid');
    expect(await new IdentityTokenVerifier(TOKEN_SECRET, () => now).check(`v1.${exp}.${sig}`, 'john@example.com')).toBe('invalid');
  });
});

describe('Deadline', () => {
  it('races a promise against the budget and reports what remains', async () => {
    const fast = new Deadline(1000);
    expect(await fast.race(Promise.resolve('done'), () => 'late')).toBe('done');
    expect(fast.remaining()).toBeGreaterThan(900);
    fast.done();
    const slow = new Deadline(50);
    const started = Date.now();
    expect(await slow.race(new Promise<string>(() => undefined), () => 'late')).toBe('late');
    expect(Date.now() - started).toBeLessThan(500);
    expect(slow.expired).toBe(true);
    expect(slow.remaining()).toBe(0);
    expect(slow.signal.aborted).toBe(true);
  });
});

describe('REST error classes (recorded 5.1 answers)', () => {
  it('one class per failure, all MauticApiError', () => {
    const at = { method: 'POST', path: '/oauth/v2/token' };
    const cases: Array<[Parameters<typeof classifyApiError>[0], new (...a: never[]) => MauticApiError]> = [
      [{ ...at, status: 400, type: 'invalid_client', messages: ['The client credentials are invalid'] }, MauticInvalidClientError],
      [{ ...at, status: 400, type: 'unauthorized_client', messages: ['The grant type is unauthorized for this client_id'] }, MauticUnauthorizedClientError],
      [{ ...at, status: 403, type: 'api_disabled', messages: ['API disabled. You need to enable the API…'] }, MauticApiDisabledError],
      [{ ...at, status: 403, type: 'access_denied', messages: ['Basic Auth disabled. You need to enable HTTP basic auth…'] }, MauticBasicAuthDisabledError],
      [{ ...at, status: 401, type: 'access_denied', messages: ['Authorization denied, invalid credentials.'] }, MauticInvalidCredentialsError],
      [{ ...at, status: 403, type: null, messages: ['You do not have access to the requested area/action.'] }, MauticForbiddenError],
      [{ ...at, status: 404, type: null, messages: ['Item was not found.'] }, MauticNotFoundError],
      [{ ...at, status: 422, type: null, messages: ['email: This field must be unique.'] }, MauticValidationError],
    ];
    for (const [init, kind] of cases) {
      const error = classifyApiError(init);
      expect(error, String(init.type ?? init.status)).toBeInstanceOf(kind);
      expect(error).toBeInstanceOf(MauticApiError);
      expect(error.status).toBe(init.status);
    }
    expect(classifyApiError({ ...at, status: 500, type: null, messages: [] }).constructor).toBe(MauticServerError);
    expect(classifyApiError({ ...at, status: 302, type: null, messages: [] }).constructor).toBe(MauticApiError);
  });
});

describe('Set-Cookie rewriting', () => {
  const allowed = new Set(['mautic_device_id', 'mtc_id']);
  it('keeps name, value and lifetime; drops Domain, SameSite=None and unknown cookies', () => {
    expect(rewriteUpstreamSetCookie('mautic_device_id=abc; Domain=.mautic.example.com; Path=/x; Max-Age=100; Secure; SameSite=None; HttpOnly', allowed, { path: '/', secure: true })).toBe(
      'mautic_device_id=abc; Path=/; Max-Age=100; SameSite=Lax; Secure',
    );
    expect(rewriteUpstreamSetCookie('mtc_id=5; expires=Mon, 22 Nov 2027 03:00:00 GMT', allowed, { path: '/mt', secure: false })).toBe(
      'mtc_id=5; Path=/mt; Expires=Mon, 22 Nov 2027 03:00:00 GMT; SameSite=Lax',
    );
    expect(rewriteUpstreamSetCookie('PHPSESSID=x; Path=/', allowed, { path: '/', secure: false })).toBeNull();
    expect(rewriteUpstreamSetCookie('mtc_id=a b; Path=/', allowed, { path: '/', secure: false })).toBeNull();
    expect(rewriteUpstreamSetCookie('garbage', allowed, { path: '/', secure: false })).toBeNull();
  });

  it('reads the attributes as before the in-place scan: the last Max-Age or Expires wins, odd spacing and case pass, malformed ones are ignored', () => {
    const attrs = { path: '/', secure: false };
    expect(rewriteUpstreamSetCookie(' mtc_id = 5 ;max-age=1; MAX-AGE = 20 ;Expires=Mon, 22 Nov 2027 03:00:00 GMT;', allowed, attrs)).toBe('mtc_id=5; Path=/; Max-Age=20; SameSite=Lax');
    expect(rewriteUpstreamSetCookie('mtc_id=5; Max-Age=soon; expires=x<y; Path=/', allowed, attrs)).toBe('mtc_id=5; Path=/; SameSite=Lax');
    expect(rewriteUpstreamSetCookie('mtc_id=5; Max-Age; Expires', allowed, attrs)).toBe('mtc_id=5; Path=/; SameSite=Lax');
    expect(rewriteUpstreamSetCookie('mtc_id=5;Expires=Mon, 22 Nov 2027 03:00:00 GMT', allowed, attrs)).toBe('mtc_id=5; Path=/; Expires=Mon, 22 Nov 2027 03:00:00 GMT; SameSite=Lax');
    expect(rewriteUpstreamSetCookie('mtc_id=', allowed, attrs)).toBe('mtc_id=; Path=/; SameSite=Lax');
    for (const bad of ['=5', ';mtc_id=5', 'mtc_id; a=b', 'mtc_id5', '', 'MTC_ID=5', 'mtc_id=5\u0000']) expect(rewriteUpstreamSetCookie(bad, allowed, attrs), bad).toBeNull();
  });
});

describe('log redaction', () => {
  it('masks every configured secret in messages and fields', () => {
    const lines: string[] = [];
    const log = createLog((e) => lines.push(JSON.stringify(e)), () => [SECRET, 'tok-abcdef']);
    log('warn', `failed with ${SECRET}`, { detail: 'Bearer tok-abcdef', n: 1 });
    expect(lines).toEqual([JSON.stringify({ level: 'warn', message: 'failed with [redacted]', fields: { detail: 'Bearer [redacted]', n: 1 } })]);
    capture.lines.push(...lines);
  });

  it("the 'console' logger writes redacted lines to console, and a throwing logger breaks nothing", async () => {
    const dead = 'http://127.0.0.1:9';
    const proxy = createMauticProxy({ mauticUrl: dead, secret: SECRET, logger: 'console', timeoutMs: 2000 });
    const before = capture.lines.length;
    const res = await proxy.handle(new Request('http://site.test/mt/mtracking.gif?a=1'), { clientIp: '127.0.0.1' });
    expect(res.status).toBe(502);
    await capture.record(res);
    expect(capture.lines.slice(before).some((l) => l.startsWith('console.warn: [mautic-proxy] upstream request failed'))).toBe(true);

    const throwing = createMauticProxy({ mauticUrl: dead, secret: SECRET, logger: () => { throw new Error('sink down'); } });
    const again = await throwing.handle(new Request('http://site.test/mt/mtracking.gif?a=1'), { clientIp: '127.0.0.1' });
    expect(again.status).toBe(502);
  });
});

describe('the leak check itself', () => {
  it('finds a planted secret in a log line or a response', () => {
    expect(findLeaks(['ok line', `token=${TOKEN_SECRET}`], ALL_SECRETS)).toEqual([{ needle: TOKEN_SECRET, text: `token=${TOKEN_SECRET}` }]);
    expect(findLeaks(['nothing here'], ALL_SECRETS)).toEqual([]);
  });
});

describe('parameter policy (hit-params)', () => {
  const dropped = new Set(['email', 'ct', 'mtc_id', 'customer_ref']);

  it('reads names as PHP does: case, %XX, +, leading spaces, . and space as _, the part before [', () => {
    const cases: Array<[string, string]> = [
      ['email', 'email'],
      ['EMAIL', 'email'],
      ['%65mail', 'email'],
      ['%45MAIL', 'email'],
      ['+email', 'email'],
      ['%20%20email', 'email'],
      ['email%5B%5D', 'email'],
      ['email[0]', 'email'],
      ['mtc.id', 'mtc_id'],
      ['mtc+id', 'mtc_id'],
      ['mtc%2Eid', 'mtc_id'],
      ['email%00x', 'email'],
      ['e_mail', 'e_mail'],
      ['emails', 'emails'],
      ['%zz', '%zz'],
    ];
    for (const [raw, name] of cases) expect(phpParamName(raw), raw).toBe(name);
  });

  it('keeps every other pair byte for byte, returns null when nothing is dropped, and cleans page_url', () => {
    expect(dropIdentityParams('a=1&b=%20x+y&&c', dropped)).toBeNull();
    expect(dropIdentityParams('', dropped)).toBeNull();
    expect(dropIdentityParams('a=1&EMAIL=x&b=2&ct&mtc.id=3', dropped)).toBe('a=1&b=2');
    expect(dropIdentityParams('email=x', dropped)).toBe('');
    // Pairs before the first dropped one (empty ones included) pass as they were, and so do later ones.
    expect(dropIdentityParams('&ct=1&a=b', dropped)).toBe('&a=b');
    expect(dropIdentityParams('a=1&&email=x&b&', dropped)).toBe('a=1&&b&');
    expect(dropIdentityParams('a=1&page_url=' + encodeURIComponent('https://s.test/?ct=1') + '&email=x&z', dropped)).toBe('a=1&page_url=' + encodeURIComponent('https://s.test/') + '&z');
    const url = (u: string): string => `page_url=${encodeURIComponent(u)}`;
    expect(dropIdentityParams(url('https://s.test/p?a=1'), dropped)).toBeNull();
    expect(dropIdentityParams(url('https://s.test/p?Customer_Ref=9&a=1#x?email=y'), dropped)).toBe(url('https://s.test/p?a=1#x?email=y'));
    expect(dropIdentityParams(url('https://s.test/p?ct=1'), dropped)).toBe(url('https://s.test/p'));
    // Undecodable page_url (malformed %): cannot be checked, so it is not passed on.
    expect(dropIdentityParams('a=1&page_url=%E0%A4%A?email=x', dropped)).toBe('a=1');
  });

  it('takes the hit id and drops the identity parameters in one pass, as the two did one after the other', () => {
    const id = 'k3j9x0c1m2n4b5v6z7a8s9d0';
    const pageUrl = 'page_url=' + encodeURIComponent('https://s.test/p?ct=1&a=2');
    const cleanPageUrl = 'page_url=' + encodeURIComponent('https://s.test/p?a=2');
    expect(takeHitId(`a=1&mt_hit_id=${id}&email=x&${pageUrl}&&z`, dropped)).toEqual({ id, query: `a=1&${cleanPageUrl}&&z`, changed: true });
    expect(takeHitId(`mt_hit_id=${id}&a=1`, dropped)).toEqual({ id, query: 'a=1', changed: true });
    // Nothing to take or drop: the same string back, marked unchanged (the relay forwards the original bytes).
    const plain = 'a=1&b=%20x+y&page_url=' + encodeURIComponent('https://s.test/p?a=2');
    expect(takeHitId(plain, dropped)).toEqual({ id: null, query: plain, changed: false });
    // An id spelled any other way PHP reads as mt_hit_id, or given twice, is stripped and not used.
    for (const odd of [`MT_HIT_ID=${id}`, `mt.hit.id=${id}`, `mt_hit_id[]=${id}`, `mt%5Fhit%5Fid=${id}`, `mt_hit_id=${id}&mt_hit_id=${id}`, 'mt_hit_id=short', 'mt_hit_id']) {
      expect(takeHitId(`a=1&${odd}&ct=9`, dropped), odd).toEqual({ id: null, query: 'a=1', changed: true });
    }
    // Without dropped names only the hit id goes, and page_url is not looked into.
    expect(takeHitId(`email=x&mt_hit_id=${id}&${pageUrl}`)).toEqual({ id, query: `email=x&${pageUrl}`, changed: true });
    expect(takeHitId('page_url=%E0%A4%A?email=x')).toEqual({ id: null, query: 'page_url=%E0%A4%A?email=x', changed: false });
  });
});

describe('hasPathTrick', () => {
  it('rejects dot segments wherever they are, and passes dots inside names', () => {
    for (const trick of ['/mt/./mtc', '/mt/../x', '/mt/mtc/.', '/mt/..', '/.', '/mt/%2e%2e/x', 'mt/x', '/mt//x', '/mt\\x']) expect(hasPathTrick(trick), trick).toBe(true);
    for (const fine of ['/mt/mtc/event', '/mt/.well-known', '/mt/a.b/c..d', '/mt/mtc.js?x=/./', '/']) expect(hasPathTrick(fine), fine).toBe(false);
  });
});
