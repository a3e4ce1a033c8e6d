/**
 * Shared plumbing of the proxy benchmark's child processes: listen on 127.0.0.1:0, tell the
 * parent the port over IPC, answer memory and CPU-time probes, exit with the parent.
 */

/**
 * @param {import('node:http').Server} server
 */
export function serveToParent(server) {
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    process.send?.({ type: 'listening', port });
  });
  process.on('message', (message) => {
    const m = /** @type {{ type?: string, id?: number }} */ (message);
    if (m.type === 'memory') void probeMemory(m.id);
    // CPU time this process has used so far (user + system, µs): the parent reads it before and
    // after a load run to get the CPU cost per relayed hit.
    if (m.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'cpu', id: m.id, micros: user + system });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * RSS after full collections, lowest of five readings 100 ms apart: a single reading swings by
 * tens of MB as V8 resizes its young generation, which would drown any real growth.
 * @param {number | undefined} id
 */
async function probeMemory(id) {
  const gc = /** @type {undefined | (() => void)} */ (/** @type {Record<string, unknown>} */ (globalThis).gc);
  let best = process.memoryUsage();
  for (let i = 0; i < 5; i++) {
    gc?.();
    gc?.();
    await sleep(100);
    const now = process.memoryUsage();
    if (now.rss < best.rss) best = now;
  }
  process.send?.({ type: 'memory', id, rss: best.rss, heapUsed: best.heapUsed, heapTotal: best.heapTotal, external: best.external });
}
