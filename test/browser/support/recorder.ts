/**
 * A tiny real HTTP server on 127.0.0.1 for the browser unit tests: records every request and
 * answers like Mautic's tracking routes unless a test sets another answer. (The Playwright tests
 * use the full stand-in; these units only need the wire.)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from '../../support/local-server.js';

export interface Recorded {
  method: string;
  path: string;
  search: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Arrival and answer times (ms since epoch), to check ordering, never speed. */
  at: number;
  answeredAt?: number;
}

/** How to answer a request: a status and a body, or `'hang'` (never answer until close). */
export type Answer = { status: number; body: string; type?: string; delayMs?: number } | 'hang';

export interface Recorder {
  url: string;
  requests: Recorded[];
  /** Answer of the next requests to `path` (all of them until changed). */
  answer(path: string, answer: Answer | ((request: Recorded) => Answer)): void;
  /** Resolves once `count` requests matched `predicate`. */
  waitFor(count: number, predicate?: (request: Recorded) => boolean, timeoutMs?: number): Promise<Recorded[]>;
  close(): Promise<void>;
}

export const TRACKING_ANSWER = JSON.stringify({
  success: 1,
  id: 42,
  sid: 'k3j9x0c1m2n4b5v6z7a8s9d',
  device_id: 'k3j9x0c1m2n4b5v6z7a8s9d',
  events: [],
});

export async function startRecorder(): Promise<Recorder> {
  const requests: Recorded[] = [];
  const answers = new Map<string, Answer | ((request: Recorded) => Answer)>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: Recorded = {
        method: req.method ?? '',
        path: url.pathname,
        search: url.search,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(recorded);
      const configured = answers.get(url.pathname);
      const answer =
        typeof configured == 'function'
          ? configured(recorded)
          : (configured ?? { status: 200, body: url.pathname == '/identify' ? '{"ok":true}' : TRACKING_ANSWER });
      if (answer == 'hang') {
        hanging.add(res);
        return;
      }
      const respond = () => {
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
        res.end(answer.body);
        recorded.answeredAt = Date.now();
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  const local = await listenLocal(server);
  return {
    url: local.url,
    requests,
    answer: (path, answer) => void answers.set(path, answer),
    async waitFor(count, predicate = () => true, timeoutMs = 10_000) {
      const start = Date.now();
      while (requests.filter(predicate).length < count) {
        if (Date.now() - start > timeoutMs) {
          throw new Error(`expected ${count} requests, got: ${JSON.stringify(requests.map((r) => r.method + ' ' + r.path))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return requests.filter(predicate);
    },
    close: () => {
      hanging.forEach((res) => res.destroy());
      return local.close();
    },
  };
}

/** Parses a form body into ordered [key, value] pairs. */
export const formPairs = (body: string): [string, string][] =>
  body.split('&').map((pair) => {
    const [key, value = ''] = pair.split('=');
    return [decodeURIComponent(key!), decodeURIComponent(value)];
  });
