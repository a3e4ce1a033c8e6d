/**
 * A port for a server that must be told its number up front (redis-server, vite, next start,
 * wrangler dev, a README sample). The OS picks a free one; a port that fetch and Chromium refuse
 * to reach ("bad port": the Fetch standard's blocked list, e.g. 5060, 6000, 6665–6669) is never
 * handed out, since a test would then fail on the port and not on what it checks.
 */
import { createServer } from 'node:net';

/** The Fetch standard's blocked ports above 1023 (https://fetch.spec.whatwg.org/#port-blocking). */
const BLOCKED_PORTS = new Set([1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);

function portTheOsPicks(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await portTheOsPicks();
    if (port > 0 && !BLOCKED_PORTS.has(port)) return port;
  }
}
