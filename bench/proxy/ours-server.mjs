/**
 * Our relay in its own process: `createMauticProxy` + `toNodeListener` from the built
 * `dist/server/node.mjs`, mounted at /mt, in front of the upstream given as argv[2].
 */
import http from 'node:http';
import { serveToParent } from './child.mjs';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: ours-server.mjs <upstream url>');
const server = await import('../../dist/server/node.mjs');
const proxy = server.createMauticProxy({
  mauticUrl: upstream,
  basePath: '/mt',
  secret: 'bench-secret-bench-secret-bench-secret-0123',
});
serveToParent(http.createServer(server.toNodeListener(proxy)));
