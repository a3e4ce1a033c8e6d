// One proxy instance in its own Node process, as a deployment runs it: the built package
// (dist/server/node.mjs + dist/server/redis.mjs), a Redis store, the Node adapter behind one trusted
// load balancer hop. Config comes as JSON in MT_INSTANCE; prints "listening <port>"; exits when
// its parent closes stdin (so it never outlives the test).
import { createServer } from 'node:http';
import { createMauticProxy, toNodeListener } from '../../../dist/server/node.mjs';
import { createRedisStore } from '../../../dist/server/redis.mjs';

const { redisUrl, proxy: config } = JSON.parse(process.env.MT_INSTANCE ?? '{}');
const store = createRedisStore({ url: redisUrl });
await store.ready();
const proxy = createMauticProxy({ ...config, store });
const server = createServer(toNodeListener(proxy, { trustedHops: 1 }));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => void store.close().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
