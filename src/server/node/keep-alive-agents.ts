/**
 * The keep-alive socket pools the relay's Node transport sends through.
 */
import * as Http from 'node:http';
import * as Https from 'node:https';

/**
 * Idle pooled sockets are closed after 3–4 s, below the usual server keep-alive timeouts
 * (Apache 5 s, Node 5 s, nginx 75 s), so we rarely reuse a socket the upstream is closing (a
 * relayed POST is never retried, so such a race would cost one hit).
 */
const IDLE_SOCKET_MS = 3_000;
const SWEEP_MS = 1_000;

/** One unref'd sweep per agent (it never keeps the process alive), no timer per request. */
function closeIdleSockets(agent: Http.Agent): void {
  const idleSince = new WeakMap<object, number>();
  agent.on('free', (socket: object) => idleSince.set(socket, Date.now()));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const list of Object.values(agent.freeSockets)) {
      for (const socket of list ?? []) {
        if (now - (idleSince.get(socket) ?? now) >= IDLE_SOCKET_MS) socket.destroy();
      }
    }
  }, SWEEP_MS);
  sweep.unref();
}

/**
 * An http and an https agent. No agent `timeout`: a socket with a timeout re-arms its timer on
 * every read and write, which measured ~10% of a relayed hit; idle sockets are swept instead and
 * each call has its own deadline.
 */
export function createKeepAliveAgents(maxSockets: number): { http: Http.Agent; https: Https.Agent } {
  const options = { keepAlive: true, maxSockets, scheduling: 'lifo' as const };
  const http = new Http.Agent(options);
  const https = new Https.Agent(options);
  closeIdleSockets(http);
  closeIdleSockets(https);
  return { http, https };
}
