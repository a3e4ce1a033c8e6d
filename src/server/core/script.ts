/**
 * Serves the SDK script from memory with a strong ETag, so the unchanged Mautic snippet can point
 * at `{site}{base}/mtc.js` and browsers revalidate cheaply.
 */
import { sha256Base64Url } from './crypto.js';

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

  async respond(request: Request): Promise<Response> {
    const etag = await this.getEtag();
    const headers = new Headers({
      etag,
      'cache-control': `public, max-age=${this.maxAgeSeconds}`,
      'x-content-type-options': 'nosniff',
    });
    if (matchesIfNoneMatch(request.headers.get('if-none-match'), etag)) {
      return new Response(null, { status: 304, headers });
    }
    headers.set('content-type', 'text/javascript; charset=utf-8');
    headers.set('content-length', String(this.content.byteLength));
    return new Response(request.method === 'HEAD' ? null : this.content.slice(), { status: 200, headers });
  }
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored. */
function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (!header || header.length > 4096) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
