/**
 * The dev server: a Mautic stand-in and its live dashboard on one port.
 *
 * The stand-in's request hook answers `/_dashboard/*` (and `/`) and applies `--latency` and
 * `--fail-rate`, which are random per request while the stand-in's own injections are
 * deterministic. Everything else is the stand-in, unchanged, so it sees each visitor's real
 * address and headers.
 *
 * @example
 * const dev = await startDevServer({ port: 8200, failRate: 0.2 });
 * console.log(dev.dashboardUrl); // http://127.0.0.1:8200/_dashboard/
 * await dev.close();
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { startStandin } from './standin/index.js';
import type { CorsMode, Standin, StandinApiOptions, StandinOptions } from './standin/types.js';
import { createDashboard, DASHBOARD_BASE, type Dashboard } from './dashboard/handler.js';
import type { InjectedFailure } from './dashboard/snapshot.js';

export interface DevServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a free port). The CLI defaults to 8200. */
  port?: number;
  cors?: CorsMode;
  /** Mautic's "publicly updatable" fields. Default none, like Mautic. */
  publicFields?: string[];
  /** Share of tracking/API requests answered with an injected 503, 0..1. Default 0. */
  failRate?: number;
  /** Delay added before every forwarded request, ms. Default 0. */
  latencyMs?: number;
  /** File served at /mtc.js. Default: the stand-in's default (`<cwd>/dist/mtc.js`). */
  scriptFile?: string;
  /** REST API clients/users the stand-in accepts (the demo's proxy uses one). */
  api?: StandinApiOptions;
  /** Which contact a form-post merge keeps: 'tracked' (default, Mautic 5.x–7.0), 'found', 'oldest'. */
  formMergeSurvivor?: StandinOptions['formMergeSurvivor'];
  /** Random source for --fail-rate (tests pass a deterministic one). */
  random?: () => number;
}

export interface DevServer {
  /** Base URL of the Mautic stand-in, e.g. http://127.0.0.1:8200 (point your snippet or proxy here). */
  readonly url: string;
  readonly port: number;
  /** The live dashboard, e.g. http://127.0.0.1:8200/_dashboard/ */
  readonly dashboardUrl: string;
  /** The stand-in that serves the dashboard too, for tests and tools. */
  readonly standin: Standin;
  readonly dashboard: Dashboard;
  close(): Promise<void>;
}

/** The requested port is taken: the message says which and what to do. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    what: string,
    flag: string,
  ) {
    super(`Port ${port} on ${host} is already in use (${what}). Stop whatever uses it, or pick another port with ${flag} <n> (0 = any free port).`);
  }
}

const FAILABLE_PATHS = new Set(['/mtc/event', '/mtracking.gif', '/mtc']);
const MAX_RECORDED_FAILURES = 500;

function isFailable(method: string, path: string): boolean {
  if (method === 'OPTIONS') return false;
  return FAILABLE_PATHS.has(path) || path.startsWith('/api/') || path.startsWith('/oauth/');
}

/** Listens, turning EADDRINUSE into a {@link PortInUseError}. */
export function listen(server: Server, host: string, port: number, what: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port, what, flag) : error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes a server and every connection it still holds (event streams, hanging requests). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? 0;
  const failRate = options.failRate ?? 0;
  const latencyMs = options.latencyMs ?? 0;
  const random = options.random ?? Math.random;
  if (!(failRate >= 0 && failRate <= 1)) throw new RangeError('failRate must be between 0 and 1');
  if (!(latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');

  const failures: InjectedFailure[] = [];
  const settings: Record<string, unknown> = {
    cors: Array.isArray(options.cors) ? options.cors.join(', ') : (options.cors ?? 'any'),
    'public fields': (options.publicFields ?? []).join(', ') || 'none',
  };
  if (failRate > 0) settings['fail rate'] = failRate;
  if (latencyMs > 0) settings.latency = `${latencyMs} ms`;

  // The dashboard needs the stand-in, and the stand-in's request hook needs the dashboard.
  let dashboard: Dashboard | undefined;

  function injectFailure(req: IncomingMessage, res: ServerResponse, path: string): void {
    failures.push({ at: new Date().toISOString(), method: req.method ?? 'GET', path, status: 503 });
    if (failures.length > MAX_RECORDED_FAILURES) failures.shift();
    req.resume();
    const isApi = path.startsWith('/api/') || path.startsWith('/oauth/');
    const body = isApi
      ? JSON.stringify({ errors: [{ code: 503, message: 'Injected failure (--fail-rate).', details: [] }] })
      : 'Injected failure (--fail-rate).\n';
    res.writeHead(503, {
      'Content-Type': isApi ? 'application/json' : 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(body);
    dashboard?.notify('injected-failure');
  }

  /** Dashboard pages first; then the random latency and failures of `--latency`/`--fail-rate`. */
  async function intercept(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (dashboard?.handle(req, res)) return true;
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!isFailable(method, path)) return false;
    // Unref'd: a delay still pending at close() keeps nothing alive; the closed socket ends it.
    if (latencyMs > 0) await delay(latencyMs, undefined, { ref: false });
    if (res.destroyed) return true;
    if (failRate > 0 && random() < failRate) {
      injectFailure(req, res, path);
      return true;
    }
    return false;
  }

  let standin: Standin;
  try {
    standin = await startStandin({
      host,
      port: requestedPort,
      cors: options.cors ?? 'any',
      publiclyUpdatableFields: options.publicFields ?? [],
      ...(options.scriptFile ? { scriptFile: options.scriptFile } : {}),
      ...(options.api ? { api: options.api } : {}),
      ...(options.formMergeSurvivor ? { formMergeSurvivor: options.formMergeSurvivor } : {}),
      intercept,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(host, requestedPort, 'dev server', '--port');
    }
    throw error;
  }

  const url = `http://${urlHost(host)}:${standin.port}`;
  const source = {
    url,
    get hits() {
      return standin.hits;
    },
    get contacts() {
      return standin.contacts;
    },
    get requests() {
      return standin.requests;
    },
    get apiCalls() {
      return standin.apiCalls;
    },
    get devices() {
      return standin.devices;
    },
    get merges() {
      return standin.merges;
    },
    get formSubmissions() {
      return standin.formSubmissions;
    },
    subscribe: (listener: Parameters<Standin['subscribe']>[0]) => standin.subscribe(listener),
  };
  const liveDashboard = createDashboard(source, {
    settings,
    injectedFailures: () => failures,
    reset: () => {
      standin.reset();
      failures.length = 0;
    },
  });
  dashboard = liveDashboard;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: standin.port,
    dashboardUrl: `${url}${DASHBOARD_BASE}/`,
    standin,
    dashboard: liveDashboard,
    close() {
      closing ??= (async () => {
        liveDashboard.close();
        await standin.close();
      })();
      return closing;
    },
  };
}
