/**
 * Bounded request bodies and PHP-like form parsing: only `application/x-www-form-urlencoded`
 * bodies become parameters, as `$_POST` would; anything else yields none.
 */
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/**
 * Reads the whole body. Past `limit` bytes it stops keeping data but drains a bounded amount more,
 * so the client can still read the 413 instead of seeing a reset; beyond that the socket is cut.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const drainLimit = limit * 4 + 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > drainLimit && !settled) {
        settled = true;
        reject(new BodyTooLargeError(limit));
        req.socket.destroy();
      }
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      if (size > limit) reject(new BodyTooLargeError(limit));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isFormContentType(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/x-www-form-urlencoded';
}

/**
 * Parses a query or form string the way PHP fills `$_GET`/`$_POST` for flat keys: '+' is a space,
 * later duplicates win, and dots and spaces in key names become underscores. Bracketed keys
 * (`a[]=1`) are kept verbatim; the stand-in does not build PHP arrays.
 */
export function parseFormLikePhp(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  if (text === '') return result;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const key = phpKey(decodeComponent(rawKey));
    if (key === '') continue;
    result[key] = decodeComponent(rawValue);
  }
  return result;
}

function decodeComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // PHP decodes what it can; a stray '%' stays literal.
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

function phpKey(key: string): string {
  const trimmed = key.replace(/^ +/, '');
  return trimmed.replace(/[ .]/g, '_');
}
