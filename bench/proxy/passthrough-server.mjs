/**
 * The practical ceiling of any Node relay: a `node:http` pass-through with no policy at all. It
 * reads the request, forwards method, headers and body to the upstream (argv[2]) over a keep-alive
 * agent set up like ours (keepAlive, 256 sockets, lifo), and pipes the answer back as it came.
 * No route, method, size, media-type or header checks, no cookie rewriting: everything our relay
 * does on top of this is what its rate below this row pays for.
 */
import http from 'node:http';
import { serveToParent } from './child.mjs';

const upstreamArg = process.argv[2];
if (!upstreamArg) throw new Error('usage: passthrough-server.mjs <upstream url>');
const upstream = new URL(upstreamArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
const BASE = '/mt';

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const forward = http.request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: url.startsWith(BASE + '/') ? url.slice(BASE.length) : url,
      headers: { ...req.headers, host: upstream.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(forward);
});
serveToParent(server);
