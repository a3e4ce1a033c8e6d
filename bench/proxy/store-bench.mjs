/**
 * Relay throughput with the proxy's store in the path: POST /mtc/event through our relay with
 * the memory store and with the Redis store (a real redis-server on loopback, no persistence),
 * each hit carrying a fresh `mt_hit_id` (a claim, then the answer kept: two store round trips per
 * hit), next to the same relay with hits that carry no id (no store call). And retries: every hit
 * sent again with its id, answered from the store without reaching the upstream.
 *
 * `storeBenchSection({ quick, log })` resolves the report's Markdown section (hooked into
 * bench/run.mjs); run alone: `node bench/proxy/store-bench.mjs [--quick]`.
 */
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REDIS = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
const BODY = 'page_title=Pricing%20%26%20Plans&page_language=en-US&preferred_locale=en_US&page_referrer=&page_url=http%3A%2F%2Flocalhost%3A8098%2Fp0%3Futm_source%3Dnews%26utm_campaign%3Dspring&counter=0&timezone_offset=-60&resolution=1920x1080&platform=Linux&do_not_track=false&timezone=Europe%2FBerlin';
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': 'XMLHttpRequest', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0.0.0' };

/** @param {string} script @param {string[]} args @returns {Promise<{ port: number, stop: () => Promise<void> }>} */
function startChild(script, args) {
  const proc = fork(path.join(HERE, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 20_000);
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    proc.on('message', (m) => {
      const msg = /** @type {{ type: string, port: number }} */ (m);
      if (msg.type !== 'listening') return;
      clearTimeout(timer);
      resolve({
        port: msg.port,
        stop: () => new Promise((res) => {
          if (proc.exitCode !== null) return res();
          proc.removeAllListeners('exit');
          proc.once('exit', () => res());
          proc.kill('SIGTERM');
        }),
      });
    });
  });
}

/** @returns {Promise<number>} */
const freePort = () => new Promise((resolve, reject) => {
  const probe = createServer();
  probe.once('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const a = probe.address();
    probe.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
  });
});

/** @returns {Promise<{ url: string, stop: () => Promise<void> }>} */
async function startRedis() {
  const port = await freePort();
  const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    proc.stdout.on('data', (c) => {
      seen += c;
      if (seen.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
    proc.once('error', reject);
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => new Promise((res) => { proc.once('exit', () => res()); proc.kill('SIGKILL'); }) };
}

/**
 * @param {string} url
 * @param {{ connections: number, duration: number, ids: 'none' | 'fresh' | 'repeat' }} load
 */
async function fire(url, load) {
  let n = 0;
  const prefix = `b${process.pid.toString(36)}${Date.now().toString(36)}`.padEnd(14, '0').slice(0, 14);
  /** A hit id per request (fresh), or the same few ids again and again (every hit a retry). */
  const body = () => {
    if (load.ids === 'none') return BODY;
    const i = load.ids === 'fresh' ? n++ : n++ % 64;
    return `${BODY}&mt_hit_id=${prefix}${i.toString(36).padStart(10, '0')}`;
  };
  const result = await autocannon({
    url,
    method: 'POST',
    headers: HEADERS,
    connections: load.connections,
    duration: load.duration,
    requests: [{ setupRequest: (/** @type {Record<string, unknown>} */ req) => ({ ...req, body: body() }) }],
  });
  const ok = result['2xx'];
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, ok, errors: result.errors + result.non2xx + result.timeouts };
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ settings: object, rows: Array<{ label: string, rps: number, p50: number, p99: number, errors: number, status: string }> }>}
 */
export async function runStoreBench(options = {}) {
  const log = options.log ?? (() => {});
  const duration = options.quick ? 2 : 5;
  const rounds = options.quick ? 1 : 3;
  const connections = 32;
  const upstream = await startChild('upstream-server.mjs', []);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const haveRedis = existsSync(REDIS);
  const redis = haveRedis ? await startRedis() : null;
  const targets = [
    { label: 'memory store, hits without an id (no store call)', store: 'memory', ids: 'none' },
    { label: 'memory store, a fresh mt_hit_id per hit', store: 'memory', ids: 'fresh' },
    { label: 'Redis store, a fresh mt_hit_id per hit', store: 'redis', ids: 'fresh' },
    { label: 'memory store, every hit a retry (answered from the store)', store: 'memory', ids: 'repeat' },
    { label: 'Redis store, every hit a retry (answered from the store)', store: 'redis', ids: 'repeat' },
  ];
  /** @type {Array<{ label: string, rps: number, p50: number, p99: number, errors: number, status: string }>} */
  const rows = [];
  try {
    for (const t of targets) {
      if (t.store === 'redis' && !redis) {
        rows.push({ label: t.label, rps: NaN, p50: NaN, p99: NaN, errors: 0, status: `no redis-server at ${REDIS}` });
        continue;
      }
      const relay = await startChild('store-server.mjs', [upstreamUrl, t.store, ...(redis ? [redis.url] : [])]);
      try {
        const url = `http://127.0.0.1:${relay.port}/mt/mtc/event`;
        await fire(url, { connections, duration: 1, ids: t.ids === 'repeat' ? 'repeat' : t.ids });
        const results = [];
        for (let r = 0; r < rounds; r++) results.push(await fire(url, { connections, duration, ids: /** @type {'none' | 'fresh' | 'repeat'} */ (t.ids) }));
        const errors = results.reduce((a, r) => a + r.errors, 0);
        rows.push({ label: t.label, rps: median(results.map((r) => r.rps)), p50: median(results.map((r) => r.p50)), p99: median(results.map((r) => r.p99)), errors, status: errors ? `${errors} errors` : 'ok' });
        log(`bench: store: ${t.label}: ${Math.round(rows.at(-1)?.rps ?? 0)} req/s`);
      } finally {
        await relay.stop();
      }
    }
  } finally {
    await upstream.stop();
    await redis?.stop();
  }
  return { settings: { connections, duration, rounds }, rows };
}

/** The report's section (Markdown). @param {{ quick?: boolean, log?: (line: string) => void }} [options] */
export async function storeBenchSection(options = {}) {
  const { settings, rows } = await runStoreBench(options);
  const base = rows[0]?.rps ?? NaN;
  const f = (/** @type {number} */ x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  return [
    `### Proxy with its store: POST /mtc/event (autocannon, ${settings.connections} connections, median of ${settings.rounds} × ${settings.duration} s)`,
    '',
    '| relay | req/s | p50 ms | p99 ms | vs no store call | status |',
    '|---|--:|--:|--:|--:|---|',
    ...rows.map((r) => `| ${r.label} | ${f(r.rps)} | ${f(r.p50)} | ${f(r.p99)} | ${Number.isFinite(r.rps) ? `${Math.round((r.rps / base) * 100)}%` : ''} | ${r.status} |`),
    '',
    'A fresh id costs two store calls per hit (claim, then keep the answer); a retry costs one or two and never reaches the upstream. Redis: a real redis-server on loopback (no persistence), one client per relay process.',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await storeBenchSection({ quick: process.argv.includes('--quick'), log: (l) => process.stderr.write(`${l}\n`) }));
}
