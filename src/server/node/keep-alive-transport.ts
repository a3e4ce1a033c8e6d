/**
 * The relay's upstream transport on Node: one `http(s).request` per hit over keep-alive agents,
 * with a plain timer for the deadline. It speaks the core's `UpstreamCall`/`PlainResponse`
 * directly, so a relayed hit creates no Web Response, ReadableStream or AbortSignal (on Node 20
 * those cost more CPU per hit than the rest of the relay together).
 *
 * Contract (see `UpstreamTransport`): one attempt, never retried; redirects are returned, not
 * followed; the answer is buffered up to `maxAnswerBytes` and returned byte-identical (a
 * compressed answer is decoded, bounded, since its encoding header is not passed on); at
 * `timeoutMs` the socket is destroyed and the result is `timeout`. It never rejects.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { PlainResponse } from '../core/plain-message.js';
import type { UpstreamCall, UpstreamResult, UpstreamTransport } from '../core/upstream.js';
import { createKeepAliveAgents } from './keep-alive-agents.js';

export interface KeepAliveTransportOptions {
  /** Concurrent sockets per upstream host. Default 256; more requests wait for a free socket. */
  maxSockets?: number;
}

export function createKeepAliveTransport(options: KeepAliveTransportOptions = {}): UpstreamTransport {
  const agents = createKeepAliveAgents(options.maxSockets ?? 256);
  // The last upstream URL, parsed: every event hit goes to the same one (parsing is pure, so a
  // one-entry memo is exact; pixel hits with a query just parse their own).
  let lastUrl = '';
  let lastTarget: URL | null = null;
  const parse = (url: string): URL => {
    if (url !== lastUrl || lastTarget === null) {
      lastTarget = new URL(url);
      lastUrl = url;
    }
    return lastTarget;
  };

  return (call: UpstreamCall) =>
    new Promise<UpstreamResult>((resolve) => {
      let settled = false;
      let req: http.ClientRequest | null = null;
      const settle = (result: UpstreamResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Anything but a complete answer leaves the socket in an unknown state: never reuse it.
        if (!result.ok) req?.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => settle({ ok: false, reason: 'timeout' }), call.timeoutMs);
      try {
        const target = parse(call.url);
        const isHttps = target.protocol === 'https:';
        // A flat [name, value, …] list: Node validates and writes it in one pass, where a record
        // goes through setHeader per header (validated, lower-cased and stored) and then the
        // same pass. Node adds no Host to a list, so it is here (URL.host: brackets and a
        // non-default port as Node would write them).
        const headers: string[] = ['host', target.host];
        for (const name in call.headers) headers.push(name, call.headers[name]!);
        // A POST always says its length (Node would add Content-Length: 0 itself only to a record).
        if (call.body || call.method !== 'GET') headers.push('content-length', String(call.body?.byteLength ?? 0));
        req = (isHttps ? https : http).request(
          {
            protocol: target.protocol,
            // `URL` keeps the brackets of an IPv6 literal; `http.request` wants the bare address.
            hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
            port: target.port,
            path: target.pathname + target.search,
            method: call.method,
            headers,
            agent: isHttps ? agents.https : agents.http,
          },
          (res) => {
            const chunks: Buffer[] = [];
            let total = 0;
            res.on('data', (chunk: Buffer) => {
              total += chunk.byteLength;
              if (total > call.maxAnswerBytes) return settle({ ok: false, reason: 'too_large' });
              chunks.push(chunk);
            });
            res.on('error', () => settle({ ok: false, reason: 'network' }));
            res.on('close', () => {
              if (!res.complete) settle({ ok: false, reason: 'network' });
            });
            res.on('end', () => {
              if (settled) return;
              const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
              let response: PlainResponse;
              try {
                response = toPlainResponse(res, raw, call.maxAnswerBytes);
              } catch (err) {
                settle({ ok: false, reason: err instanceof RangeError ? 'too_large' : 'network' });
                return;
              }
              settle({ ok: true, response });
            });
          },
        );
        req.on('error', () => settle({ ok: false, reason: 'network' }));
        req.end(call.body ?? undefined);
      } catch {
        // An invalid URL or header value: http.request throws synchronously.
        settle({ ok: false, reason: 'network' });
      }
    });
}

function toPlainResponse(res: http.IncomingMessage, raw: Buffer, maxBytes: number): PlainResponse {
  // From the raw list only: `res.headers` would build a second, parsed copy of every header.
  const headers: Array<[string, string]> = [];
  const encodings: string[] = [];
  const rawHeaders = res.rawHeaders;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers.push([name, rawHeaders[i + 1]!]);
    if (name === 'content-encoding') encodings.push(rawHeaders[i + 1]!);
  }
  // Repeated headers joined with ', ', as `res.headers` does for Content-Encoding.
  const encoding = encodings.join(', ').trim().toLowerCase();
  // Mautic 5.1 sends its pixel with the non-standard `Content-Encoding: none` (mtracking_gif_*);
  // browsers and fetch pass that through as identity, and so must we.
  const bytes = encoding !== '' && encoding !== 'identity' && encoding !== 'none' && raw.byteLength > 0 ? decode(encoding, raw, maxBytes) : raw;
  return {
    status: res.statusCode ?? 0,
    headers,
    body: new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength),
  };
}

/**
 * We never send Accept-Encoding, so a compliant upstream answers uncompressed; one that
 * compresses anyway is decoded (bounded: over `maxBytes` throws a RangeError) like fetch would,
 * since the relay does not pass the encoding header on.
 */
function decode(encoding: string, raw: Buffer, maxBytes: number): Buffer {
  const limit = { maxOutputLength: maxBytes };
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(raw, limit);
  if (encoding === 'deflate') return zlib.inflateSync(raw, limit);
  if (encoding === 'br') return zlib.brotliDecompressSync(raw, limit);
  throw new Error('unsupported upstream content-encoding');
}

let shared: UpstreamTransport | undefined;

/**
 * One keep-alive pool per process for every proxy the Node entry makes (idle sockets are closed
 * by an unref'd sweep, so they never keep the process alive).
 */
export function sharedKeepAliveTransport(): UpstreamTransport {
  shared ??= createKeepAliveTransport();
  return shared;
}
