/**
 * The fast local "Mautic" of the proxy benchmark: answers POST /mtc/event with Mautic's JSON and
 * cookies (docs/protocol.md §4), as quickly as node:http can, so that the relays are what is measured.
 */
import http from 'node:http';
import { serveToParent } from './child.mjs';

const BODY = Buffer.from(JSON.stringify({ success: 1, id: 42, sid: 'k3j9x0c1m2n4b5v6z7a8s9d', device_id: 'k3j9x0c1m2n4b5v6z7a8s9d', events: [] }));
const COOKIES = [
  'mautic_device_id=k3j9x0c1m2n4b5v6z7a8s9d; expires=Mon, 22-Nov-2027 00:00:00 GMT; Max-Age=31536000; path=/; secure; samesite=none',
  'mtc_id=42; path=/; secure; samesite=none',
];

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST' && req.url?.startsWith('/mtc/event')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache', 'Content-Length': BODY.length, 'Set-Cookie': COOKIES });
      res.end(BODY);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': 2 });
      res.end('{}');
    }
  });
});
serveToParent(server);
