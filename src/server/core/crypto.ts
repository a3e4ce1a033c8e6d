/**
 * HMAC-SHA256 and base64url over WebCrypto only, so the core runs on every runtime.
 * Verification uses `crypto.subtle.verify`, which compares in constant time.
 */

const encoder = new TextEncoder();

/** Imports `secret` as an HMAC-SHA256 key usable for both signing and verifying. */
export function importHmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

export async function hmacSign(key: CryptoKey, message: string): Promise<string> {
  const sig = await crypto.subtle.sign('HMAC', key, encoder.encode(message));
  return base64UrlEncode(new Uint8Array(sig));
}

/** Constant-time check of a base64url signature; false for anything malformed. */
export async function hmacVerify(key: CryptoKey, message: string, signature: string): Promise<boolean> {
  const bytes = base64UrlDecode(signature);
  if (!bytes || bytes.length !== 32) return false;
  return crypto.subtle.verify('HMAC', key, bytes, encoder.encode(message));
}

export async function sha256Base64Url(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return base64UrlEncode(new Uint8Array(digest));
}

/** Bytes as a binary string (one char per byte), the form `btoa` takes. */
function binaryOf(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return binary;
}

/** Unpadded base64url (RFC 4648 §5). */
export function base64UrlEncode(bytes: Uint8Array): string {
  return btoa(binaryOf(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict decoder: null on any character outside the base64url alphabet (no padding, no
 * whitespace) and on non-canonical text. `atob` ignores the unused low bits of the last
 * character, so up to four spellings decode to the same bytes; a signature must have exactly
 * one, or a single-use token could be replayed under another spelling.
 */
export function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> | null {
  // `atob` is forgiving (whitespace, padding): the pattern keeps the strict syntax.
  if (text.length % 4 === 1 || text.length > 4096 || !BASE64URL.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return base64UrlEncode(bytes) === text ? bytes : null;
}

/** Standard base64 (with padding) of UTF-8 text, for HTTP Basic credentials. */
export function base64Utf8(text: string): string {
  return btoa(binaryOf(encoder.encode(text)));
}
