/**
 * A `fetch` for the relay's upstream calls built on `node:http`/`node:https` with keep-alive
 * agents. The Node adapters hand it to the core (unless the config brought its own `fetch`):
 * profiling showed Node's built-in fetch (undici) costing more per relayed hit than the whole
 * core — it clones every request with a body (`redirect: 'manual'`), tees the body stream and
 * builds several Web streams per call. Relayed requests and answers are tiny and already
 * buffered, so a plain `http.request` with a Buffer body is enough.
 *
 * Same contract as the core expects from `fetch`: honours `signal` (abort → rejection, socket
 * destroyed), never follows redirects, never retries, buffers the answer up to a bound (over it
 * → rejection, which the core reports as 502) and returns the bytes unchanged (the GIF stays
 * byte-identical). Anything it does not handle (a `Request` input, a stream body) goes to the
 * global `fetch`.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Zlib from 'node:zlib';

interface NodeModules {
  http: typeof Http;
  https: typeof Https;
  zlib: typeof Zlib;
}

/**
 * The builtins, looked up at run time (`process.getBuiltinModule`, Node ≥ 20.16) rather than
 * imported: the package entry must stay importable on runtimes without Node builtins, and a
 * static import here would break that. Null where unavailable: the adapters then keep `fetch`.
 */
function nodeModules(): NodeModules | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  const http = get('node:http') as typeof Http | undefined;
  const https = get('node:https') as typeof Https | undefined;
  const zlib = get('node:zlib') as typeof Zlib | undefined;
  return http && https && zlib ? { http, https, zlib } : null;
}

export interface NodeUpstreamFetchOptions {
  /** Largest answer buffered, bytes (after decoding). Default 1 MiB (the core's own cap is lower). */
  maxResponseBytes?: number;
  /** Concurrent sockets per upstream host. Default 256; more requests wait for a free socket. */
  maxSockets?: number;
}

/** Statuses whose Response must have a null body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Idle pooled sockets are closed after 3–4 s, below the usual server keep-alive timeouts
 * (Apache 5 s, Node 5 s, nginx 75 s), so we rarely reuse a socket the upstream is closing (a
 * relayed POST is never retried, so such a race would cost one hit).
 */
const IDLE_SOCKET_MS = 3_000;
const SWEEP_MS = 1_000;

/** One unref'd sweep per agent (it never keeps the process alive), no timer per request. */
function closeIdleSockets(agent: Http.Agent): void {
  const idleSince = new WeakMap<object, number>();
  agent.on('free', (socket: object) => idleSince.set(socket, Date.now()));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const list of Object.values(agent.freeSockets)) {
      for (const socket of list ?? []) {
        if (now - (idleSince.get(socket) ?? now) >= IDLE_SOCKET_MS) socket.destroy();
      }
    }
  }, SWEEP_MS);
  sweep.unref();
}

type FetchInput = Parameters<typeof fetch>[0];
type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

class UpstreamBodyTooLargeError extends Error {
  constructor() {
    super('upstream response too large');
    this.name = 'UpstreamBodyTooLargeError';
  }
}

/**
 * @example
 * const proxy = createMauticProxy({ mauticUrl, secret, fetch: createNodeUpstreamFetch() ?? fetch });
 * // toNodeListener / expressMiddleware already do this when `fetch` is not configured.
 */
export function createNodeUpstreamFetch(options: NodeUpstreamFetchOptions = {}): typeof fetch | null {
  const modules = nodeModules();
  if (!modules) return null;
  const { http, https, zlib } = modules;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  // No agent `timeout`: a socket with a timeout re-arms its timer on every read and write, which
  // measured ~10% of a relayed hit. Idle sockets are closed by `closeIdleSockets` instead.
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: 'lifo' as const };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  closeIdleSockets(httpAgent);
  closeIdleSockets(httpsAgent);

  const nodeFetch = (input: FetchInput, init: FetchInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : null;
    const body = init.body;
    const bodyOk = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (url === null || !bodyOk || (init.redirect !== undefined && init.redirect !== 'manual')) {
      return globalThis.fetch(input, init);
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch (err) {
      return Promise.reject(new TypeError('invalid URL', { cause: err }));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return globalThis.fetch(input, init);
    const signal = init.signal ?? null;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    const payload = body === undefined || body === null ? null : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const headers = outgoingHeaders(init.headers);
    if (!headers) return globalThis.fetch(input, init);
    if (payload) headers['content-length'] = String(payload.byteLength);
    const method = (init.method ?? 'GET').toUpperCase();
    const isHttps = target.protocol === 'https:';

    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        if (signal) abortWatch.remove(signal, onAbort);
        req.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(abortError(signal!));
      const req = (isHttps ? https : http).request(
        {
          protocol: target.protocol,
          // `URL` keeps the brackets of an IPv6 literal; `http.request` wants the bare address.
          hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method,
          headers,
          agent: isHttps ? httpsAgent : httpAgent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (chunk: Buffer) => {
            total += chunk.byteLength;
            if (total > maxBytes) return fail(new UpstreamBodyTooLargeError());
            chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(new Error('upstream connection closed mid-answer'));
          });
          res.on('end', () => {
            if (settled) return;
            try {
              const response = toResponse(res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total), maxBytes, zlib);
              settled = true;
              if (signal) abortWatch.remove(signal, onAbort);
              resolve(response);
            } catch (err) {
              fail(err);
            }
          });
        },
      );
      req.on('error', fail);
      if (signal) abortWatch.add(signal, onAbort);
      req.end(payload ?? undefined);
    });
  };
  return nodeFetch as typeof fetch;
}

/**
 * Headers for `http.request`. A plain record of strings (what the core sends) is used as is,
 * lower-cased; anything else goes through `Headers` for validation. Null → let fetch handle it.
 */
function outgoingHeaders(init: HeadersInit | undefined): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (init === undefined) return out;
  if (init instanceof Headers || Array.isArray(init)) {
    new Headers(init).forEach((value, name) => {
      out[name] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(init)) {
    if (typeof value !== 'string') return null;
    out[name.toLowerCase()] = value;
  }
  return out;
}

function toResponse(res: Http.IncomingMessage, raw: Buffer, maxBytes: number, zlib: typeof Zlib): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) throw new Error('upstream status outside 200-599');
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const encoded = encoding !== '' && encoding !== 'identity' && raw.byteLength > 0;
  const bytes = encoded ? decode(encoding, raw, maxBytes, zlib) : raw;
  const pairs: Array<[string, string]> = [];
  const rawHeaders = res.rawHeaders;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Decoded here, so the encoding and the encoded length no longer describe the body.
    if (encoded && /^content-(encoding|length)$/i.test(name)) continue;
    pairs.push([name, rawHeaders[i + 1]!]);
  }
  const body = NULL_BODY_STATUSES.has(status) || bytes.byteLength === 0 ? null : new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  try {
    // Pairs, not a Headers object: the Response would copy a Headers object once more.
    return new Response(body, { status, headers: pairs });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const headers = new Headers();
  for (const [name, value] of pairs) {
    try {
      headers.append(name, value);
    } catch {
      // A header value the Fetch API refuses is dropped; the core passes only a few anyway.
    }
  }
  return new Response(body, { status, headers });
}

/**
 * We never send Accept-Encoding, so a compliant upstream answers uncompressed; one that
 * compresses anyway is decoded (bounded) like fetch would, so the browser never gets bytes
 * labelled with an encoding header the relay does not pass on.
 */
function decode(encoding: string, raw: Buffer, maxBytes: number, zlib: typeof Zlib): Buffer {
  const limit = { maxOutputLength: maxBytes };
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(raw, limit);
  if (encoding === 'deflate') return zlib.inflateSync(raw, limit);
  if (encoding === 'br') return zlib.brotliDecompressSync(raw, limit);
  throw new Error('unsupported upstream content-encoding');
}

/**
 * One 'abort' listener per signal, whatever the number of calls sharing it (the core shares
 * deadline signals between concurrent calls): no EventTarget listener churn per call and no
 * MaxListeners warning.
 */
const abortWatch = {
  callbacks: new WeakMap<AbortSignal, Set<() => void>>(),
  add(signal: AbortSignal, callback: () => void): void {
    let set = this.callbacks.get(signal);
    if (!set) {
      const created = new Set<() => void>();
      set = created;
      this.callbacks.set(signal, created);
      signal.addEventListener(
        'abort',
        () => {
          for (const cb of created) cb();
          created.clear();
        },
        { once: true },
      );
    }
    set.add(callback);
  },
  remove(signal: AbortSignal, callback: () => void): void {
    this.callbacks.get(signal)?.delete(callback);
  },
};

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

let shared: typeof fetch | null | undefined;

/**
 * One keep-alive pool per process for every proxy the adapters serve (idle sockets are
 * unref'd, so they never keep the process alive). Null where Node builtins are unavailable.
 */
export function sharedNodeUpstreamFetch(): typeof fetch | null {
  if (shared === undefined) shared = createNodeUpstreamFetch();
  return shared;
}
