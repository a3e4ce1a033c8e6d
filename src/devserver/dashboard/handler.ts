/**
 * Serves the live dashboard under `/_dashboard` (Mautic itself never uses that path):
 *   GET  /_dashboard/             the page
 *   GET  /_dashboard/dashboard.js / dashboard.css
 *   GET  /_dashboard/export.json  contacts, hits, custom events, API calls (secrets redacted)
 *   GET  /_dashboard/events       server-sent events: one `change` per stand-in change
 *   POST /_dashboard/reset        forget everything the stand-in recorded
 * `GET /` redirects to the dashboard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dashboardClientSource } from './client.js';
import { DASHBOARD_BASE, dashboardCss, dashboardHtml } from './page.js';
import { buildSnapshot, type DashboardSource, type InjectedFailure } from './snapshot.js';

export { DASHBOARD_BASE } from './page.js';

export interface DashboardOptions {
  /** Shown in the header, e.g. `{ cors: 'any', failRate: 0.2 }`. */
  settings?: Record<string, unknown>;
  /** Failures injected in front of the stand-in (they never reach it, so it cannot list them). */
  injectedFailures?: () => readonly InjectedFailure[];
  /** Called for POST /_dashboard/reset. */
  reset?: () => void;
  /** Keep-alive comment interval for SSE streams, ms. */
  keepAliveMs?: number;
}

export interface Dashboard {
  /** Handles the request and returns true when the path is the dashboard's; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Number of open event streams (tests use it to know a browser is listening). */
  readonly streamCount: number;
  /** Tells the dashboard a change happened that the stand-in does not report (e.g. an injected failure). */
  notify(kind: string): void;
  /** Ends every event stream and unsubscribes from the stand-in. */
  close(): void;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:",
  'Referrer-Policy': 'no-referrer',
} as const;

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function changeKind(change: unknown): string {
  if (change !== null && typeof change === 'object') {
    const record = change as Record<string, unknown>;
    for (const key of ['type', 'kind', 'event']) {
      const value = record[key];
      if (typeof value === 'string' && value.length <= 40) return value;
    }
  }
  return 'change';
}

/**
 * @example
 * const mautic = await startStandin();
 * const dashboard = createDashboard(mautic);
 * createServer((req, res) => dashboard.handle(req, res) || otherHandler(req, res)).listen(8200);
 */
export function createDashboard(source: DashboardSource, options: DashboardOptions = {}): Dashboard {
  const streams = new Set<ServerResponse>();
  let changeSeq = 0;

  const broadcast = (kind: string): void => {
    changeSeq++;
    const frame = `event: change\nid: ${changeSeq}\ndata: ${JSON.stringify({ kind, seq: changeSeq })}\n\n`;
    for (const stream of streams) stream.write(frame);
  };
  const unsubscribe = source.subscribe((change) => broadcast(changeKind(change)));

  const keepAlive = setInterval(() => {
    for (const stream of streams) stream.write(': keep-alive\n\n');
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ seq: changeSeq })}\n\n`);
    streams.add(res);
    const drop = (): void => {
      streams.delete(res);
    };
    req.on('close', drop);
    res.on('close', drop);
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(302, { Location: `${DASHBOARD_BASE}/`, 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (path !== DASHBOARD_BASE && !path.startsWith(`${DASHBOARD_BASE}/`)) return false;

    const sub = path.slice(DASHBOARD_BASE.length) || '/';
    if (sub === '/reset') {
      if (req.method !== 'POST') {
        send(res, 405, 'text/plain; charset=utf-8', 'Use POST.\n', { Allow: 'POST' });
      } else {
        options.reset?.();
        broadcast('reset');
        send(res, 204, 'text/plain', '');
      }
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'The dashboard is read-only: use GET.\n', { Allow: 'GET, HEAD' });
      return true;
    }
    switch (sub) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', dashboardHtml);
        return true;
      case '/dashboard.js':
        send(res, 200, 'text/javascript; charset=utf-8', dashboardClientSource);
        return true;
      case '/dashboard.css':
        send(res, 200, 'text/css; charset=utf-8', dashboardCss);
        return true;
      case '/export.json': {
        const snapshot = buildSnapshot(source, {
          ...(options.settings ? { settings: options.settings } : {}),
          injectedFailures: options.injectedFailures?.() ?? [],
        });
        send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(snapshot, null, 2)}\n`);
        return true;
      }
      case '/events':
        openStream(req, res);
        return true;
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'Not a dashboard page. Try /_dashboard/\n');
        return true;
    }
  }

  return {
    handle,
    get streamCount() {
      return streams.size;
    },
    notify: broadcast,
    close() {
      clearInterval(keepAlive);
      unsubscribe();
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}
