/**
 * Our relay in its own process with a given store (`memory` or `redis <url>`), from the built
 * `dist/server/node.mjs` and `dist/server/redis.mjs`, in front of the upstream given as argv[2].
 */
import http from 'node:http';
import { serveToParent } from './child.mjs';

const [upstream, kind, redisUrl] = process.argv.slice(2);
if (!upstream || (kind !== 'memory' && kind !== 'redis')) throw new Error('usage: store-server.mjs <upstream url> memory|redis [redis url]');
const server = await import('../../dist/server/node.mjs');
let store;
if (kind === 'redis') {
  const { createRedisStore } = await import('../../dist/server/redis.mjs');
  store = createRedisStore({ url: redisUrl });
  await store.ready();
}
const proxy = server.createMauticProxy({
  mauticUrl: upstream,
  basePath: '/mt',
  secret: 'bench-secret-bench-secret-bench-secret-0123',
  ...(store ? { store } : {}),
});
serveToParent(http.createServer(server.toNodeListener(proxy)));
