/**
 * How a conformance case puts the stand-in in the state a recorded exchange implies, and what
 * the setup code may use. See README.md beside this file.
 */
import { request as httpRequest } from 'node:http';
import type { Standin, StandinOptions } from '../../src/devserver/index.js';

/** The OAuth2 client and Basic user of the recorded server (a throwaway install). */
export const RECORDED_CLIENT = {
  id: '1_5efrxpqlzrc4wck00w880co4owgc04ksc4gc8wks0wsg8okwoo',
  secret: '2gqlenz66g848co80okwk0wcsc00o0c84wo0ks8s4go04coso8',
} as const;
export const RECORDED_BASIC_USER = { username: 'admin', password: 'Mautic-Admin-2024!' } as const;
/** The one origin the recorded server's CORS setting allowed. */
export const RECORDED_ALLOWED_ORIGIN = 'http://localhost:8098';
/** The browser User-Agent of the recording. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

export interface WireAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  text: string;
}

export interface ApiAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HitOptions {
  /** `Cookie` header, e.g. `mautic_device_id=…`. */
  cookie?: string;
  userAgent?: string;
  origin?: string;
}

export interface TrackedVisitor {
  id: number;
  deviceId: string;
  setCookies: string[];
}

/** What a scenario's `setup` may do before the recorded request is replayed. */
export interface Setup {
  readonly standin: Standin;
  /** Moves the stand-in's clock forward (expired tokens without waiting). */
  advance(ms: number): void;
  /** A fresh access token of the recorded OAuth client. */
  token(): Promise<string>;
  /** An authenticated JSON API call as the recorded client; the parsed body is returned. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>>;
  /** `POST /mtc/event` as a browser (X-Requested-With, the allowed origin); returns the ids Mautic answered. */
  hit(params: Record<string, string>, options?: HitOptions): Promise<TrackedVisitor>;
  /** Any raw request to the stand-in. */
  send(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<WireAnswer>;
  /** Replaces `recorded` by `actual` everywhere in the replayed request (path, headers, body). */
  sub(recorded: string, actual: string | number): void;
  /** Replays the recorded `Authorization` header unchanged (invalid, foreign or expired tokens). */
  keepAuthorization(): void;
}

export interface Scenario {
  /** Stand-in options on top of the harness defaults (recorded client, Basic user, CORS origin). */
  options?: Partial<StandinOptions>;
  setup?(setup: Setup): Promise<void>;
  /** The stand-in deliberately does not reproduce this exchange: listed with this reason, not compared. */
  notReproduced?: string;
  /** Body paths not compared (e.g. `contact.fields`), with the reason; listed in the summary. */
  relaxed?: { paths: string[]; reason: string };
}

export type Scenarios = Record<string, Scenario>;

/** One request over plain `node:http`, so every recorded header (Cookie, Origin…) goes as given. */
export function sendRaw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<WireAnswer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const outgoing: Record<string, string> = { ...headers };
    if (payload) outgoing['Content-Length'] = String(payload.byteLength);
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: outgoing, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const one of Array.isArray(value) ? value : [value]) answerHeaders.append(name, one);
          }
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body: new Uint8Array(bytes), text: bytes.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
