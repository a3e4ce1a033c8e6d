/**
 * Shared plumbing of the proxy benchmark's child processes: listen on 127.0.0.1:0, tell the
 * parent the port over IPC, answer memory probes, exit with the parent.
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
    if (m.type === 'memory') {
      // With --expose-gc: collect first, so the reading shows what is retained, not garbage.
      const gc = /** @type {undefined | (() => void)} */ (/** @type {Record<string, unknown>} */ (globalThis).gc);
      if (gc) {
        gc();
        gc();
      }
      const { rss, heapUsed } = process.memoryUsage();
      process.send?.({ type: 'memory', id: m.id, rss, heapUsed });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
