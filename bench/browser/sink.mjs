/**
 * The local sink of the browser benchmark: one node:http server on 127.0.0.1 that serves the test
 * pages and the trackers' scripts, and answers every tracker's endpoints at once with a small
 * fixed response, so that only the trackers' own costs are measured and nothing leaves the machine.
 * It records each request's arrival time and wire bytes (head + body), preflights included.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';

/**
 * @typedef {object} Asset
 * @property {Buffer} body
 * @property {string} type   Content-Type
 */

/**
 * @typedef {object} SinkRequest
 * @property {number} at         performance.now() at arrival
 * @property {string} host
 * @property {string} method
 * @property {string} path       pathname only
 * @property {number} upBytes    request line + headers + body, as received
 * @property {number} downBytes  response head + body as written
 */

const MAUTIC_JSON = JSON.stringify({ success: 1, id: 42, sid: 'k3j9x0c1m2n4b5v6z7a8s9d', device_id: 'k3j9x0c1m2n4b5v6z7a8s9d', events: [] });
const GIF = Buffer.from('R0lGODlhAQABAJAAAP8AAAAAACH5BAUQAAAALAAAAAABAAEAAAICBAEAOw==', 'base64');

/**
 * Picks the fixed answer for a tracker endpoint. Unknown paths get `{}`: every peer copes with it.
 * @param {string} method
 * @param {string} path
 * @param {(path: string) => string | undefined} segmentSettings
 * @returns {{ status: number, type: string, body: string | Buffer }}
 */
function endpointAnswer(method, path, segmentSettings) {
  if (path.endsWith('/mtc/event')) return { status: 200, type: 'application/json', body: MAUTIC_JSON };
  if (path.endsWith('/mtracking.gif')) return { status: 200, type: 'image/gif', body: GIF };
  if (path.endsWith('/mtc')) return { status: 200, type: 'application/json', body: JSON.stringify({ id: 42, sid: 'k3j9x0c1m2n4b5v6z7a8s9d', device_id: 'k3j9x0c1m2n4b5v6z7a8s9d' }) };
  if (path === '/api/event') return { status: 202, type: 'text/plain', body: 'ok' };
  const settings = segmentSettings(path);
  if (settings) return { status: 200, type: 'application/json', body: settings };
  if (/^\/array\/[^/]+\/config\.js$/.test(path)) return { status: 200, type: 'application/javascript', body: '' };
  if (path.startsWith('/flags')) return { status: 200, type: 'application/json', body: JSON.stringify({ flags: {}, featureFlags: {}, featureFlagPayloads: {}, errorsWhileComputingFlags: false }) };
  if (method === 'POST' && /^\/(e|i\/v0\/e|batch|capture|s)\b/.test(path)) return { status: 200, type: 'application/json', body: '{"status":1}' };
  if (path.startsWith('/v1/')) return { status: 200, type: 'application/json', body: '{"success":true}' };
  return { status: 200, type: 'application/json', body: '{}' };
}

/**
 * @param {object} options
 * @param {Map<string, Asset>} options.assets      by pathname; scripts served gzip'ed when accepted, like a CDN
 * @param {Map<string, string>} options.pages      HTML by pathname
 * @param {(path: string) => string | undefined} [options.segmentSettings]  JSON for Segment's settings URL
 */
export async function startSink({ assets, pages, segmentSettings = () => undefined }) {
  /** @type {Map<string, Buffer>} */
  const gzipped = new Map();
  /** @type {SinkRequest[]} */
  let requests = [];

  const server = http.createServer((req, res) => {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'http://sink');
    const path = url.pathname;
    let upBytes = 0;
    // Request head as sent: request line, each header line, blank line.
    upBytes += `${req.method} ${req.url} HTTP/1.1\r\n`.length + 2;
    for (let i = 0; i < req.rawHeaders.length; i += 2) upBytes += (req.rawHeaders[i]?.length ?? 0) + (req.rawHeaders[i + 1]?.length ?? 0) + 4;
    /** @type {SinkRequest} */
    const record = { at, host: req.headers.host ?? '', method: req.method ?? 'GET', path, upBytes, downBytes: 0 };
    req.on('data', (chunk) => (record.upBytes += chunk.length));
    req.on('end', () => {
      const origin = req.headers.origin;
      /** @type {Record<string, string>} */
      const headers = { 'Cache-Control': 'no-store' };
      if (origin) {
        headers['Access-Control-Allow-Origin'] = origin;
        headers['Access-Control-Allow-Credentials'] = 'true';
        headers['Vary'] = 'Origin';
      }
      /** @param {number} status @param {string} type @param {string | Buffer} body @param {Record<string,string>} [extra] */
      const send = (status, type, body, extra = {}) => {
        const buf = typeof body === 'string' ? Buffer.from(body) : body;
        const all = { ...headers, ...extra, 'Content-Type': type, 'Content-Length': String(buf.length) };
        res.writeHead(status, all);
        res.end(buf);
        record.downBytes = buf.length + Object.entries(all).reduce((n, [k, v]) => n + k.length + v.length + 4, 30);
      };
      if (req.method === 'OPTIONS') {
        const wanted = req.headers['access-control-request-headers'];
        res.writeHead(204, {
          ...headers,
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          ...(wanted ? { 'Access-Control-Allow-Headers': wanted } : {}),
          'Access-Control-Max-Age': '600',
        });
        res.end();
        record.downBytes = 200;
        return;
      }
      const page = pages.get(path);
      if (page !== undefined) return send(200, 'text/html; charset=utf-8', page);
      const asset = assets.get(path);
      if (asset) {
        if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
          let gz = gzipped.get(path);
          if (!gz) gzipped.set(path, (gz = gzipSync(asset.body, { level: 9 })));
          return send(200, asset.type, gz, { 'Content-Encoding': 'gzip' });
        }
        return send(200, asset.type, asset.body);
      }
      if (path === '/favicon.ico') return send(404, 'text/plain', '');
      if (req.method === 'GET' && path.endsWith('.js')) return send(200, 'application/javascript', '');
      const answer = endpointAnswer(record.method, path, segmentSettings);
      return send(answer.status, answer.type, answer.body);
    });
    requests.push(record);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('sink: no port');

  return {
    port: address.port,
    /** Requests since the last reset, in arrival order. */
    get requests() {
      return requests;
    },
    reset() {
      requests = [];
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
