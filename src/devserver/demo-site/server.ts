/**
 * The demo website's backend: static pages from `demo/site`, the SDK's npm build at `/sdk/`, the
 * proxy (src/server) mounted at `/mt`, and a toy login that mints identity tokens.
 *
 *   GET  /                 demo/site/index.html (and every other file in demo/site)
 *   GET  /spa/…            demo/site/spa.html for any route (history fallback for the SPA page)
 *   GET  /sdk/index.mjs    dist/index.mjs (plus its chunks): `import { createTracker } from '/sdk/index.mjs'`
 *   ANY  /mt/…             the proxy: mtc.js, mtc/event, mtracking.gif, mtc, identify
 *   POST /login            {email} → {email, token}: what a real site does after a real login
 *   GET  /demo-config.json {dashboardUrl, proxyBase, mode}
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { mintIdentityToken, type IdentifyHistoryConfig, type MauticAuthConfig } from '../../server/index.js';
import { readNodeBody } from '../../server/node/incoming-request.js';
import { toNodeListener } from '../../server/node/listener.js';
// Not the Node entry (index.ts): its loadSdkScript must stay in that entry's bundle.
import { createMauticProxy } from '../../server/node/proxy.js';
import { closeServer, listen } from '../dev-server.js';

export const DEMO_PROXY_BASE = '/mt';

export interface DemoSiteOptions {
  host?: string;
  /** Default 0 (a free port). The CLI defaults to 8300. */
  port?: number;
  /** Folder with the demo pages (the repository's `demo/site`). */
  siteDir: string;
  /** Folder with the build (`dist/`): the proxy serves its mtc.js, the SPA page imports index.mjs. */
  distDir: string;
  /** Mautic (or stand-in) base URL the proxy talks to. */
  mauticUrl: string;
  /** REST credentials for identification. */
  auth: MauticAuthConfig;
  /** Signs binding cookies and identity tokens; ≥ 32 characters. */
  secret: string;
  /** Shown on the pages as a link; absent with a real Mautic. */
  dashboardUrl?: string;
  /** The proxy's `identify.history` (what setup-identify printed). Default false: no history merge. */
  identifyHistory?: IdentifyHistoryConfig | false;
  /** The proxy's `timeoutMs` (one deadline per identify). Default the proxy's 10000. */
  timeoutMs?: number;
}

export interface DemoSite {
  readonly url: string;
  readonly port: number;
  /** `${url}/mt`: the proxy's base, where the snippet loads mtc.js from. */
  readonly proxyUrl: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.tpl': 'text/plain; charset=utf-8',
};
const EMAIL = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,190}\.[A-Za-z]{2,24}$/;
const MAX_LOGIN_BODY = 4096;
/** A login body still arriving after this is refused (408), like the proxy does. */
const LOGIN_BODY_TIMEOUT_MS = 10_000;

function sendText(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendText(res, status, `${JSON.stringify(value)}\n`, 'application/json; charset=utf-8');
}

/** Resolves `relative` inside `root`, or undefined when it would escape it. */
function safeJoin(root: string, relative: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const full = normalize(join(root, decoded));
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : undefined;
}

async function serveFile(res: ServerResponse, file: string | undefined, method: string): Promise<void> {
  if (!file) {
    sendText(res, 404, 'Not found.\n');
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.byteLength,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(method === 'HEAD' ? undefined : body);
  } catch {
    sendText(res, 404, 'Not found.\n');
  }
}

/** The toy login: any well-formed email "logs in"; the token proves it to the proxy. */
async function handleLogin(req: IncomingMessage, res: ServerResponse, secret: string): Promise<void> {
  const read = await readNodeBody(req, MAX_LOGIN_BODY, LOGIN_BODY_TIMEOUT_MS);
  if (!read.ok) {
    // The rest of the body is never read: the connection cannot be reused.
    res.shouldKeepAlive = false;
    sendJson(res, read.status, { error: read.status === 413 ? 'Body too large.' : 'Bad request.' });
    return;
  }
  const raw = read.body.toString('utf8');
  let email = '';
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(raw) as { email?: unknown };
      email = typeof parsed.email === 'string' ? parsed.email : '';
    } catch {
      sendJson(res, 400, { error: 'Body is not JSON.' });
      return;
    }
  } else {
    email = new URLSearchParams(raw).get('email') ?? '';
  }
  email = email.trim();
  if (!EMAIL.test(email)) {
    sendJson(res, 400, { error: 'Enter an email address like jane@example.com.' });
    return;
  }
  const token = await mintIdentityToken({ email, secret, ttlSeconds: 600 });
  sendJson(res, 200, { email, token });
}

/**
 * @example
 * const site = await startDemoSite({ port: 8300, siteDir: 'demo/site', distDir: 'dist',
 *   mauticUrl: dev.url, auth: { type: 'oauth2', clientId, clientSecret }, secret, dashboardUrl: dev.dashboardUrl });
 * console.log(site.url, site.proxyUrl);
 */
export async function startDemoSite(options: DemoSiteOptions): Promise<DemoSite> {
  const host = options.host ?? '127.0.0.1';
  const script = await readFile(join(options.distDir, 'mtc.js'));
  const proxy = createMauticProxy({
    mauticUrl: options.mauticUrl,
    basePath: DEMO_PROXY_BASE,
    secret: options.secret,
    script: new Uint8Array(script),
    // The demo serves the script with no-cache semantics in mind: edits show on reload.
    scriptMaxAgeSeconds: 0,
    auth: options.auth,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    identify: { mode: 'token', allowedFields: ['firstname', 'lastname'], history: options.identifyHistory ?? false },
  });
  const proxyListener = toNodeListener(proxy);
  const siteDir = normalize(options.siteDir);
  const distDir = normalize(options.distDir);
  let publicUrl = '';

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === DEMO_PROXY_BASE || path.startsWith(`${DEMO_PROXY_BASE}/`)) {
      proxyListener(req, res);
      return;
    }
    if (path === '/login') {
      if (method !== 'POST') sendJson(res, 405, { error: 'Use POST.' });
      else void handleLogin(req, res, options.secret).catch(() => sendJson(res, 500, { error: 'Login failed.' }));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed.\n');
      return;
    }
    if (path === '/demo-config.json') {
      sendJson(res, 200, {
        dashboardUrl: options.dashboardUrl ?? null,
        proxyBase: DEMO_PROXY_BASE,
        proxyUrl: `${publicUrl}${DEMO_PROXY_BASE}`,
        mode: options.dashboardUrl ? 'stand-in' : 'mautic',
      });
      return;
    }
    if (path === '/sdk/index.mjs' || /^\/sdk\/chunks\/[A-Za-z0-9_.-]+\.mjs$/.test(path)) {
      void serveFile(res, safeJoin(distDir, path.slice('/sdk/'.length)), method);
      return;
    }
    if (path === '/spa' || path.startsWith('/spa/')) {
      void serveFile(res, join(siteDir, 'spa.html'), method);
      return;
    }
    const relative = path.endsWith('/') ? `${path}index.html` : path;
    void serveFile(res, safeJoin(siteDir, relative), method);
  });

  const port = await listen(server, host, options.port ?? 0, 'demo site', '--demo-port');
  const hostForUrl = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  publicUrl = `http://${hostForUrl}:${port}`;
  return {
    url: publicUrl,
    port,
    proxyUrl: `${publicUrl}${DEMO_PROXY_BASE}`,
    close: () => closeServer(server),
  };
}
