/**
 * The "website" of end-to-end tests: a tiny node:http server on 127.0.0.1 (ephemeral port) that
 * serves HTML strings registered per path, plus the repository's `dist/` folder under `/dist/` (so a
 * page can import the npm entry as an ES module). Chromium reaches it as `http://site.test:<port>`,
 * another site than the Mautic stand-in on `http://mautic.test:<port>`.
 *
 * @example
 * const site = await startSiteServer();
 * site.setPage('/p1', sitePage({ title: 'Home', body: mauticSnippet({ scriptUrl }) }));
 * await page.goto(site.url('/p1'));
 * await site.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { resolve, sep, extname } from 'node:path';
import { listenLocal } from './local-server.js';

export interface SiteServer {
  /** Port the server listens on (127.0.0.1). */
  readonly port: number;
  /** `http://<host>:<port><path>`; host defaults to `site.test`. */
  url(path?: string, host?: string): string;
  /** Serves `html` at `path` (the path without query string). Replaces an earlier page. */
  setPage(path: string, html: string): void;
  /** Paths the browser asked for, in order (with query string). */
  readonly requested: string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function startSiteServer(options: { distDir?: string } = {}): Promise<SiteServer> {
  const distDir = resolve(options.distDir ?? resolve(process.cwd(), 'dist'));
  const pages = new Map<string, string>();
  const requested: string[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://site.test');
    requested.push(target.pathname + target.search);
    const html = pages.get(target.pathname);
    if (html !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
      return;
    }
    if (target.pathname.startsWith('/dist/')) {
      const file = resolve(distDir, decodeURIComponent(target.pathname.slice('/dist/'.length)));
      // Serve only files inside dist/: the tests' pages never need anything else.
      if (file.startsWith(distDir + sep)) {
        try {
          const body = await readFile(file);
          res.writeHead(200, {
            'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
            'Cache-Control': 'no-store',
          });
          res.end(body);
          return;
        } catch {
          // fall through to 404
        }
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const { port, close } = await listenLocal(server);

  return {
    port,
    url: (path = '/', host = 'site.test') => `http://${host}:${port}${path}`,
    setPage: (path, html) => void pages.set(path, html),
    requested,
    close,
  };
}

/**
 * Mautic's snippet exactly as docs/protocol.md §1 prints it (same bytes, line breaks included), with only
 * the script URL and the global's name substituted, followed by `calls` (default: the snippet's own
 * `<name>('send', 'pageview');` line).
 */
export function mauticSnippet(options: { scriptUrl: string; name?: string; calls?: string }): string {
  const name = options.name ?? 'mt';
  const calls = options.calls ?? `${name}('send', 'pageview');`;
  return `<script>
(function(w,d,t,u,n,a,m){w['MauticTrackingObject']=n;
w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)},a=d.createElement(t),
m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)
})(window,document,'script','${options.scriptUrl}','${name}');
${calls}
</script>`;
}

/** Only the JavaScript of the snippet (for tag-manager style late injection). */
export function mauticSnippetCode(options: { scriptUrl: string; name?: string; calls?: string }): string {
  return mauticSnippet(options).replace(/^<script>\n/, '').replace(/\n<\/script>$/, '');
}

/**
 * Records what the SDK reports back into `window.__log`: `__cb(tag)` makes a callbacks object whose
 * onload/onerror push an entry, and every `mauticPageEventDelivered` event is pushed too. Entries
 * are plain JSON so the test can read them with `page.evaluate`.
 */
export const INSTRUMENTATION = `<script>
window.__log = [];
window.__plain = function (v) { try { return JSON.parse(JSON.stringify(v)); } catch (e) { return String(v); } };
window.__cb = function (tag) {
  return {
    onload: function (detail) { __log.push({ tag: tag, kind: 'onload', detail: __plain(detail), at: performance.now() }); },
    onerror: function (error) {
      __log.push({ tag: tag, kind: 'onerror', isError: error instanceof Error,
        message: String(error && error.message), at: performance.now() });
    }
  };
};
document.addEventListener('mauticPageEventDelivered', function (e) {
  __log.push({ tag: 'delivered', kind: 'delivered', detail: __plain(e.detail), at: performance.now() });
});
</script>`;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A complete HTML page: `head` goes after the title, `body` into the body. */
export function sitePage(options: { title: string; head?: string; body?: string; instrument?: boolean }): string {
  const instrument = options.instrument === false ? '' : INSTRUMENTATION;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
${instrument}
${options.head ?? ''}
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${options.body ?? ''}
</body>
</html>`;
}

/**
 * A page that imports the npm entry (repo's dist/index.mjs, served under /dist/) as an ES module
 * and exposes `window.__tracker = createTracker(options)`; `window.__ready` turns true after.
 */
export function npmTrackerPage(options: { title: string; trackerOptions: Record<string, unknown>; body?: string }): string {
  return sitePage({
    title: options.title,
    instrument: false,
    body: `${options.body ?? ''}
<script type="module">
import { createTracker } from '/dist/index.mjs';
window.__tracker = createTracker(${JSON.stringify(options.trackerOptions)});
window.__ready = true;
</script>`,
  });
}
