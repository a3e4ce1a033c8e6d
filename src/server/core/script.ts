/**
 * Serves the SDK script from memory with a strong ETag, so the unchanged Mautic snippet can point
 * at `{site}{base}/mtc.js` and browsers revalidate cheaply.
 */
import { sha256Base64Url } from './crypto.js';
import type { PlainRequest, PlainResponse } from './plain-message.js';

export class ScriptAsset {
  private etag: Promise<string> | null = null;

  constructor(
    private readonly content: Uint8Array<ArrayBuffer>,
    private readonly maxAgeSeconds: number,
  ) {}

  private getEtag(): Promise<string> {
    this.etag ??= sha256Base64Url(this.content).then((hash) => `"${hash.slice(0, 32)}"`);
    return this.etag;
  }

  async respond(request: PlainRequest): Promise<PlainResponse> {
    const etag = await this.getEtag();
    const headers: Array<[string, string]> = [
      ['etag', etag],
      ['cache-control', `public, max-age=${this.maxAgeSeconds}`],
      ['x-content-type-options', 'nosniff'],
    ];
    if (matchesIfNoneMatch(request.header('if-none-match'), etag)) return { status: 304, headers, body: null };
    headers.push(['content-type', 'text/javascript; charset=utf-8'], ['content-length', String(this.content.byteLength)]);
    return { status: 200, headers, body: request.method === 'HEAD' ? null : this.content.slice() };
  }
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored. */
function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (!header || header.length > 4096) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
