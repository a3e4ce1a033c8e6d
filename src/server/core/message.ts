/**
 * The core's runtime-neutral request and answer shapes. The relay routes (event, pixel, contact
 * ids) work on these plain messages rather than on Web `Request`/`Response`: on Node 20 each Web
 * object (with its streams and signals) costs more per hit than the whole relay policy, so the
 * Node adapter builds a `PlainRequest` straight from `IncomingMessage` and writes the
 * `PlainResponse` straight to the socket. `handle(Request)` wraps a Request the same way, so every
 * runtime goes through one code path with the same checks.
 */

/** A buffered body, or why it could not be read (the caller answers 400, 408 or 413). */
export type BodyRead = { ok: true; bytes: Uint8Array<ArrayBuffer> } | { ok: false; status: 400 | 408 | 413 };

export interface PlainRequest {
  readonly method: string;
  /** The absolute request URL (`https://site.example/mt/mtc/event?…`). */
  readonly url: string;
  /** One header by lower-case name (always lower-case: Node keys them so), repeated values joined; null when absent. */
  header(name: string): string | null;
  /**
   * The body, at most `limit` bytes. Called only once a route accepted the request, so a
   * rejected request's body is never read (a Web body is then never pulled from the client).
   */
  readBody(limit: number): BodyRead | Promise<BodyRead>;
  /** The same request as a Web `Request`, for the cold routes (script, identify). */
  toRequest(): Request;
}

export interface PlainResponse {
  status: number;
  /** Name/value pairs in order; `set-cookie` may repeat. Lower-case names. */
  headers: Array<[string, string]>;
  /** Null for no body. */
  body: Uint8Array<ArrayBuffer> | null;
}

/** What the core answers: a plain message from the relay, a Web Response from the cold routes. */
export type CoreAnswer = PlainResponse | Response;

/** The Web `Response` for a plain answer (built once, from pairs: no intermediate Headers copy). */
export function toWebResponse(answer: PlainResponse): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** Whichever the core answered, as a Web `Response`. */
export function asWebResponse(answer: CoreAnswer): Response {
  return answer instanceof Response ? answer : toWebResponse(answer);
}
