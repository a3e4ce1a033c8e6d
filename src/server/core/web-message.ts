/**
 * A Web `Request` seen as the core's `PlainRequest`, for `handle(Request)` on Workers, Deno, Bun,
 * Next.js and anyone calling the core directly. Headers are looked up on the Request itself and
 * the body is read lazily (bounded, stream cancelled past the limit), exactly as before the plain
 * path existed.
 */
import { readBodyLimited } from './http.js';
import type { BodyRead, PlainRequest } from './message.js';

export class WebPlainRequest implements PlainRequest {
  constructor(
    private readonly request: Request,
    /** How long the body may take to arrive (the config's `timeoutMs`). */
    private readonly bodyTimeoutMs: number,
  ) {}

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    return this.request.url;
  }

  header(name: string): string | null {
    return this.request.headers.get(name);
  }

  async readBody(limit: number): Promise<BodyRead> {
    const read = await readBodyLimited(this.request, limit, this.bodyTimeoutMs);
    if (read.ok) return read;
    const status = read.response.status;
    return { ok: false, status: status === 413 || status === 408 ? status : 400 };
  }

  toRequest(): Request {
    return this.request;
  }
}
