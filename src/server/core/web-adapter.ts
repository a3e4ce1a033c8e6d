/**
 * The Web edge of the core, the one place that speaks Web `Request`/`Response`: a `Request` seen
 * as the core's `PlainRequest` (for `handle(Request)` on Workers, Deno, Bun, Next.js and anyone
 * calling the core directly), a `PlainResponse` as a `Response`, and the bounded stream reader
 * shared with the fetch transport.
 */
import type { BodyRead, PlainRequest, PlainResponse } from './plain-message.js';

/** Why a bounded read stopped early. */
export type StreamReadFailure = 'too_large' | 'timeout' | 'broken';

/**
 * Reads a whole stream, at most `limit` bytes: past the limit, or when `timeoutMs` (if given) ran
 * out first, the stream is cancelled and nothing more is buffered (a client can trickle a body
 * forever, or send one far too large).
 */
export async function readStreamLimited(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
  timeoutMs?: number,
): Promise<{ ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; reason: StreamReadFailure }> {
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline =
    timeoutMs === undefined
      ? null
      : new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
  try {
    for (;;) {
      const read = deadline ? await Promise.race([reader.read(), deadline]) : await reader.read();
      if (read === 'timeout') {
        // Not awaited: a stalled source may never settle its cancel.
        reader.cancel().catch(() => {});
        return { ok: false, reason: 'timeout' };
      }
      const { done, value } = read;
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return { ok: false, reason: 'too_large' };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: 'broken' };
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

const READ_FAILURE_STATUS = { too_large: 413, timeout: 408, broken: 400 } as const;

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

  /** Bounded by the declared length first (no byte is pulled for a body declared too large), then by the bytes read. */
  async readBody(limit: number): Promise<BodyRead> {
    const declared = this.request.headers.get('content-length');
    if (declared !== null) {
      if (!/^\d{1,15}$/.test(declared)) return { ok: false, status: 400 };
      if (Number(declared) > limit) return { ok: false, status: 413 };
    }
    const read = await readStreamLimited(this.request.body, limit, this.bodyTimeoutMs);
    return read.ok ? read : { ok: false, status: READ_FAILURE_STATUS[read.reason] };
  }
}

/** The Web `Response` for a plain one (built once, from pairs: no intermediate Headers copy). */
export function toWebResponse(response: PlainResponse): Response {
  return new Response(response.body, { status: response.status, headers: response.headers });
}
