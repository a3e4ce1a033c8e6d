/**
 * A real `redis-server` (Debian's package) for the store tests: on a free loopback port, no
 * persistence, stopped by `stop()` (and restartable on the same port, to play Redis going away
 * and coming back).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../support/free-port.js';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGKILL: Redis "going away", not a clean shutdown). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${seen}`)), 10_000);
      proc.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/Ready to accept connections/.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`redis-server could not run (${BINARY}): ${err.message}`));
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        if (!/Ready to accept connections/.test(seen)) reject(new Error(`redis-server exited with ${code}:\n${seen}`));
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const proc = child;
      child = null;
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
