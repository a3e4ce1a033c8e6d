/**
 * Proxy benchmark: requests/s and p50/p99 latency of POST /mtc/event through our relay, measured
 * with autocannon (in this process) on loopback against a fast local upstream, next to the
 * upstream hit directly (the limit) and http-proxy-middleware on Express (the usual Node answer).
 * Upstream and each relay run in child processes so the load generator never shares their event
 * loop. Then the RSS of a fresh relay process after a warm-up and after 100k more requests.
 *
 * Run alone: `node bench/proxy-bench.mjs [--quick]` (prints JSON).
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { DIST } from './lib/paths.mjs';
import { median, ratio } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A real pageview body (docs/protocol.md §3's captured example). */
export const EVENT_BODY =
  'page_title=Pricing%20%26%20Plans&page_language=en-US&preferred_locale=en_US&page_referrer=&page_url=http%3A%2F%2Flocalhost%3A8098%2Fp0%3Futm_source%3Dnews%26utm_campaign%3Dspring&counter=0&timezone_offset=-60&resolution=1920x1080&platform=Linux&do_not_track=false&timezone=Europe%2FBerlin';
const EVENT_HEADERS = {
  'content-type': 'application/x-www-form-urlencoded',
  'x-requested-with': 'XMLHttpRequest',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  'accept-language': 'en-US,en;q=0.9',
};

/**
 * @typedef {object} Child
 * @property {number} port
 * @property {import('node:child_process').ChildProcess} proc
 * @property {() => Promise<{ rss: number, heapUsed: number }>} memory  after a forced GC
 * @property {() => Promise<void>} stop
 */

/**
 * @param {string} script file in bench/proxy/
 * @param {string[]} args
 * @returns {Promise<Child>}
 */
function startChild(script, args = []) {
  const proc = fork(path.join(HERE, 'proxy', script), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 20_000);
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    proc.on('message', (message) => {
      const m = /** @type {{ type: string, port: number }} */ (message);
      if (m.type !== 'listening') return;
      clearTimeout(timer);
      resolve({
        port: m.port,
        proc,
        memory: () =>
          new Promise((res) => {
            const id = nextId++;
            /** @param {unknown} reply */
            const onReply = (reply) => {
              const r = /** @type {{ type: string, id: number, rss: number, heapUsed: number }} */ (reply);
              if (r.type === 'memory' && r.id === id) {
                proc.off('message', onReply);
                res({ rss: r.rss, heapUsed: r.heapUsed });
              }
            };
            proc.on('message', onReply);
            proc.send({ type: 'memory', id });
          }),
        stop: () =>
          new Promise((res) => {
            if (proc.exitCode !== null) return res();
            proc.removeAllListeners('exit');
            proc.once('exit', () => res());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * @param {string} url
 * @param {{ connections: number, duration?: number, amount?: number }} load
 */
async function fire(url, load) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: EVENT_HEADERS,
    body: EVENT_BODY,
    connections: load.connections,
    pipelining: 1,
    ...(load.amount ? { amount: load.amount } : { duration: load.duration ?? 10 }),
  });
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** One request, checked by hand: a relay that answers 4xx fast must not look fast. */
async function checkAnswers(/** @type {string} */ url) {
  const res = await fetch(url, { method: 'POST', headers: EVENT_HEADERS, body: EVENT_BODY });
  const text = await res.text();
  return res.status === 200 && text.includes('"device_id"');
}

export function ourProxyIsReal() {
  const file = path.join(DIST, 'server/node.mjs');
  return existsSync(file) && /\bcreateMauticProxy\b/.test(readFileSync(file, 'utf8')) && /\btoNodeListener\b/.test(readFileSync(file, 'utf8'));
}

/**
 * @typedef {object} ProxyRow
 * @property {'direct' | 'ours' | 'hpm' | 'hpm-keepalive'} target
 * @property {string} label
 * @property {'ok' | 'pending' | 'broken'} status
 * @property {number} rps
 * @property {number} p50   ms
 * @property {number} p99   ms
 * @property {number} total
 * @property {number} non2xx
 * @property {number} errors
 */

/**
 * @param {{ duration?: number, warmup?: number, connections?: number, rounds?: number, rssRequests?: number, rssWarmup?: number, log?: (line: string) => void }} [options]
 */
export async function runProxyBench(options = {}) {
  const duration = options.duration ?? 3;
  const warmup = options.warmup ?? 2;
  const connections = options.connections ?? 32;
  const roundCount = options.rounds ?? 3;
  const rssRequests = options.rssRequests ?? 100_000;
  // Long enough for V8's young generation and the socket pools to reach their steady size: a relay
  // that allocates little per request needs tens of thousands of requests before its RSS settles.
  const rssWarmup = options.rssWarmup ?? 30_000;
  const log = options.log ?? (() => {});
  const real = ourProxyIsReal();

  const upstream = await startChild('upstream-server.mjs');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  /** @type {ProxyRow[]} */
  const rows = [];
  /** @type {{ warmRss: number, afterRss: number, growth: number, warmHeap: number, afterHeap: number, requests: number, warmupRequests: number, series: number[], non2xx: number, errors: number } | null} */
  let memory = null;
  try {
    const targets = /** @type {const} */ ([
      { target: 'direct', label: 'upstream direct (limit)', script: null },
      { target: 'ours', label: 'mautic-tracker toNodeListener', script: 'ours-server.mjs' },
      { target: 'hpm', label: 'http-proxy-middleware 3 + express 5', script: 'hpm-server.mjs' },
      { target: 'hpm-keepalive', label: 'same + keep-alive agent (info only)', script: 'hpm-server.mjs', extra: 'keepalive' },
    ]);
    /** @type {Map<string, Child | null>} */
    const children = new Map();
    /** @type {Map<string, { rps: number, total: number, p50: number, p99: number, non2xx: number, errors: number }[]>} */
    const rounds = new Map();
    /** @type {Map<string, boolean>} */
    const answered = new Map();
    try {
      // All relays run for the whole measurement and take turns, round by round, so that a noisy
      // neighbour slows every contender alike instead of whichever ran at that moment.
      for (const t of targets) {
        if (t.target === 'ours' && !real) continue;
        const child = t.script ? await startChild(t.script, [upstreamUrl, ...('extra' in t ? [t.extra] : [])]) : null;
        children.set(t.target, child);
        const url = child ? `http://127.0.0.1:${child.port}/mt/mtc/event` : `${upstreamUrl}/mtc/event`;
        answered.set(t.target, await checkAnswers(url));
        await fire(url, { connections, duration: warmup });
      }
      for (let round = 0; round < roundCount; round++) {
        const live = targets.filter((t) => children.has(t.target));
        const order = live.map((_, i) => live[(i + round) % live.length]);
        for (const t of order) {
          if (!t) continue;
          const child = children.get(t.target);
          const url = child ? `http://127.0.0.1:${child.port}/mt/mtc/event` : `${upstreamUrl}/mtc/event`;
          const r = await fire(url, { connections, duration });
          (rounds.get(t.target) ?? rounds.set(t.target, []).get(t.target))?.push(r);
          log(`proxy: round ${round + 1}/${roundCount} ${t.target} ${Math.round(r.rps)} req/s p99 ${r.p99} ms`);
        }
      }
    } finally {
      for (const child of children.values()) await child?.stop();
    }
    for (const t of targets) {
      const list = rounds.get(t.target);
      if (!list) {
        rows.push({ target: t.target, label: t.label, status: 'pending', rps: NaN, p50: NaN, p99: NaN, total: 0, non2xx: 0, errors: 0 });
        continue;
      }
      const non2xx = list.reduce((n, r) => n + r.non2xx, 0);
      const errors = list.reduce((n, r) => n + r.errors, 0);
      rows.push({
        target: t.target,
        label: t.label,
        status: answered.get(t.target) && non2xx === 0 && errors === 0 ? 'ok' : 'broken',
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        total: list.reduce((n, r) => n + r.total, 0),
        non2xx,
        errors,
      });
    }

    if (real) {
      // A fresh relay process: warm up (JIT, connection pools, allocator arenas), then 100k more
      // requests in four steps, reading RSS after a forced GC at each step to show the trend.
      const child = await startChild('ours-server.mjs', [upstreamUrl]);
      try {
        const url = `http://127.0.0.1:${child.port}/mt/mtc/event`;
        await fire(url, { connections, amount: rssWarmup });
        const warm = await child.memory();
        /** @type {number[]} */
        const series = [warm.rss];
        let total = 0;
        let non2xx = 0;
        let errors = 0;
        let after = warm;
        for (let step = 0; step < 4; step++) {
          const r = await fire(url, { connections, amount: Math.round(rssRequests / 4) });
          total += r.total;
          non2xx += r.non2xx;
          errors += r.errors;
          after = await child.memory();
          series.push(after.rss);
          log(`proxy: rss step ${step + 1}/4: ${(after.rss / 2 ** 20).toFixed(1)} MB after ${total} requests (${Math.round(r.rps)} req/s)`);
        }
        memory = { warmRss: warm.rss, afterRss: after.rss, growth: after.rss - warm.rss, warmHeap: warm.heapUsed, afterHeap: after.heapUsed, requests: total, warmupRequests: rssWarmup, series, non2xx, errors };
        log(`proxy: rss ${series.map((b) => (b / 2 ** 20).toFixed(1)).join(' → ')} MB over ${total} requests`);
      } finally {
        await child.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  const byTarget = (/** @type {string} */ t) => rows.find((r) => r.target === t && r.status === 'ok');
  const ours = byTarget('ours');
  const hpm = byTarget('hpm');
  const direct = byTarget('direct');
  return {
    settings: { connections, duration, rounds: roundCount, warmup, rssRequests, rssWarmup, body: EVENT_BODY.length },
    rows,
    memory,
    ratios: {
      oursVsHpmRps: ratio(ours?.rps ?? NaN, hpm?.rps ?? NaN),
      oursVsDirectRps: ratio(ours?.rps ?? NaN, direct?.rps ?? NaN),
      oursVsHpmP99: ratio(ours?.p99 ?? NaN, hpm?.p99 ?? NaN),
    },
  };
}

/** `--quick`: one short round, and RSS over 20k requests instead of 100k (not valid for the budget). */
export const QUICK_PROXY = { duration: 2, warmup: 1, rounds: 1, rssRequests: 20_000, rssWarmup: 30_000 };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  runProxyBench({ ...(quick ? QUICK_PROXY : {}), log: (l) => console.error(l) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
