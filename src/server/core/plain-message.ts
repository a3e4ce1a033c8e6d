/**
 * The one request and response shape of the core. Every route (script, identify, the relayed
 * hits) takes a `PlainRequest` and answers a `PlainResponse`, and the upstream transports answer
 * the relay with a `PlainResponse` too. Runtimes convert at their edge only: the Web adapter
 * (web-adapter.ts, `handle(Request)`) and the Node listener (src/server/node/) — on Node 20 a
 * Web Request/Response with its streams and signals costs more per hit than the whole relay
 * policy, so the Node listener builds a `PlainRequest` straight from `IncomingMessage` and writes
 * the `PlainResponse` straight to the socket.
 */

/** A buffered body, or why it could not be read (the caller answers 400, 408 or 413). */
export type BodyRead = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; status: 400 | 408 | 413 };

export interface PlainRequest {
  readonly method: string;
  /** The absolute request URL (`https://site.example/mt/mtc/event?…`). */
  readonly url: string;
  /**
   * `new URL(url)`, when the adapter already parsed it (the Node listener must, to know whether
   * the path is the proxy's): the core then uses it instead of parsing the same string again.
   * Never modified by the core.
   */
  readonly parsedUrl?: URL;
  /** One header by lower-case name (always lower-case: Node keys them so), repeated values joined; null when absent. */
  header(name: string): string | null;
  /**
   * The body, at most `limit` bytes. Called only once a route accepted the request, so a
   * rejected request's body is never read (a Web body is then never pulled from the client).
   */
  readBody(limit: number): BodyRead | Promise<BodyRead>;
}

export interface PlainResponse {
  status: number;
  /** Name/value pairs in order; `set-cookie` may repeat. Lower-case names. */
  headers: Array<[string, string]>;
  /** Null for no body. */
  body: Uint8Array<ArrayBuffer> | null;
}

/**
 * True for a promise (any thenable). The hot path awaits only what is one: an `await` on a
 * value that is already there still costs a microtask, and a Node hit's body, a returning
 * visitor's binding check and most answers are already there.
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The first value of header `name` (lower-case), or null. */
export function headerOf(response: PlainResponse, name: string): string | null {
  for (const [key, value] of response.headers) if (key === name) return value;
  return null;
}

/** Every `Set-Cookie` value, in order. */
export function setCookiesOf(response: PlainResponse): string[] {
  const values: string[] = [];
  for (const [key, value] of response.headers) if (key === 'set-cookie') values.push(value);
  return values;
}
