/**
 * Proxy benchmark: requests/s, p50/p99 latency and CPU time per hit of POST /mtc/event through our
 * relay, measured with autocannon (in this process) on loopback against one fast local upstream,
 * next to: the upstream hit directly, a policy-free `node:http` pass-through (the practical
 * ceiling of any Node relay), `@fastify/http-proxy` (the fastest Node proxy a user would pick) and
 * http-proxy-middleware on Express (the usual Node answer). Upstream and each relay run in child
 * processes so the load generator never shares their event loop. In every round each peer the
 * budgets name runs right next to a run of ours, so a noisy neighbour slows both alike. Then the RSS of a fresh relay process
 * after a warm-up and after 100k more requests.
 *
 * Run alone: `node bench/proxy-bench.mjs [--quick]` (prints JSON).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { ourProxyEntries, resolveOurEntry } from './lib/entry.mjs';
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
 * @property {() => Promise<number>} cpu  CPU time used so far, user + system, µs
 * @property {() => Promise<void>} stop
 */

let nextProbeId = 1;

/**
 * One probe of a child (see proxy/child.mjs), answered over IPC.
 * @param {import('node:child_process').ChildProcess} proc
 * @param {'memory' | 'cpu'} type
 * @returns {Promise<Record<string, unknown>>}
 */
function ask(proc, type) {
  const id = nextProbeId++;
  return new Promise((resolve) => {
    /** @param {unknown} reply */
    const onReply = (reply) => {
      const r = /** @type {Record<string, unknown>} */ (reply);
      if (r.type === type && r.id === id) {
        proc.off('message', onReply);
        resolve(r);
      }
    };
    proc.on('message', onReply);
    proc.send({ type, id });
  });
}

/**
 * @param {string} script file in bench/proxy/
 * @param {string[]} args
 * @returns {Promise<Child>}
 */
function startChild(script, args = []) {
  const proc = fork(path.join(HERE, 'proxy', script), args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
        memory: () => ask(proc, 'memory').then((r) => ({ rss: Number(r.rss), heapUsed: Number(r.heapUsed) })),
        cpu: () => ask(proc, 'cpu').then((r) => Number(r.micros)),
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

/** Our proxy is built and its entries export what ours-server.mjs imports. */
export function ourProxyIsReal() {
  const entries = ourProxyEntries();
  if (!entries) return false;
  const exported = (/** @type {string} */ subpath, /** @type {string} */ name) => {
    const file = resolveOurEntry(subpath);
    return file !== null && new RegExp(`\\b${name}\\b`).test(readFileSync(file, 'utf8'));
  };
  return exported(entries.core, 'createMauticProxy') && exported(entries.node, 'toNodeListener');
}

/**
 * @typedef {'direct' | 'passthrough' | 'ours' | 'fastify' | 'hpm' | 'hpm-keepalive'} ProxyTarget
 */

/**
 * @typedef {object} RoundResult
 * @property {number} rps
 * @property {number} total
 * @property {number} p50   ms
 * @property {number} p99   ms
 * @property {number} non2xx
 * @property {number} errors
 * @property {number} cpuPerHit          µs of CPU the relay process spent per hit (NaN for direct)
 * @property {number} upstreamCpuPerHit  µs of CPU the upstream process spent per hit
 */

/**
 * @typedef {object} ProxyRow
 * @property {ProxyTarget} target
 * @property {string} label
 * @property {'ok' | 'pending' | 'broken'} status
 * @property {number} rps      median over its runs
 * @property {number} rpsMin   lowest round
 * @property {number} rpsMax   highest round
 * @property {number} p50   ms, median over the rounds
 * @property {number} p99   ms, median over the rounds
 * @property {number} cpuPerHit          µs, median over the rounds
 * @property {number} upstreamCpuPerHit  µs, median over the rounds
 * @property {number} total
 * @property {number} non2xx
 * @property {number} errors
 * @property {RoundResult[]} rounds  in run order (ours runs once per budget peer and round)
 */

/** Every contender, in table order. `script: null` is the upstream itself. */
export const PROXY_TARGETS = /** @type {const} */ ([
  { target: 'direct', label: 'upstream direct (no relay)', script: null },
  { target: 'passthrough', label: 'node:http pass-through, no policy (ceiling)', script: 'passthrough-server.mjs' },
  { target: 'ours', label: 'mautic-tracker toNodeListener', script: 'ours-server.mjs' },
  { target: 'fastify', label: '@fastify/http-proxy 11 + fastify 5', script: 'fastify-server.mjs' },
  { target: 'hpm', label: 'http-proxy-middleware 3 + express 5', script: 'hpm-server.mjs' },
  { target: 'hpm-keepalive', label: 'same + keep-alive agent (info only)', script: 'hpm-server.mjs', extra: 'keepalive' },
]);

/** The peers the budgets compare ours with; the other rows are information. */
const BUDGET_PEERS = new Set(['passthrough', 'fastify', 'hpm']);
/** @param {string} target */
const isBudgetPeer = (target) => BUDGET_PEERS.has(target);

/**
 * Ours over a peer, pair by pair: the two ran back to back, so their ratio cancels most of the
 * machine's drift; the median of these is what the budgets use.
 * @param {Map<string, { ours: RoundResult, theirs: RoundResult }[]>} pairs
 * @param {ProxyTarget} peer
 */
function pairRatios(pairs, peer) {
  return (pairs.get(peer) ?? []).map((p) => ratio(p.ours.rps, p.theirs.rps));
}

/**
 * @param {{ duration?: number, warmup?: number, connections?: number, rounds?: number, rssRequests?: number, rssWarmup?: number, log?: (line: string) => void }} [options]
 */
export async function runProxyBench(options = {}) {
  const duration = options.duration ?? 3;
  const warmup = options.warmup ?? 2;
  const connections = options.connections ?? 32;
  const roundCount = options.rounds ?? 5;
  const rssRequests = options.rssRequests ?? 100_000;
  // Long enough for V8's young generation and the socket pools to reach their steady size: a relay
  // that allocates little per request needs tens of thousands of requests before its RSS settles.
  const rssWarmup = options.rssWarmup ?? 30_000;
  const log = options.log ?? (() => {});
  const real = ourProxyIsReal();
  const startedAt = Date.now();

  const upstream = await startChild('upstream-server.mjs');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  /** @type {ProxyRow[]} */
  const rows = [];
  /** @type {Map<string, RoundResult[]>} */
  const rounds = new Map();
  /** Each budget peer's runs with the run of ours next to it. @type {Map<string, { ours: RoundResult, theirs: RoundResult }[]>} */
  const pairs = new Map();
  /** @type {{ warmRss: number, afterRss: number, growth: number, warmHeap: number, afterHeap: number, requests: number, warmupRequests: number, series: number[], non2xx: number, errors: number } | null} */
  let memory = null;
  try {
    /** @type {Map<string, Child | null>} */
    const children = new Map();
    /** @type {Map<string, boolean>} */
    const answered = new Map();
    const urlOf = (/** @type {Child | null | undefined} */ child) => (child ? `http://127.0.0.1:${child.port}/mt/mtc/event` : `${upstreamUrl}/mtc/event`);
    try {
      // Every relay runs for the whole measurement (started, checked and warmed up here), and they
      // take turns below, so that a noisy neighbour slows every contender alike.
      for (const t of PROXY_TARGETS) {
        if (t.target === 'ours' && !real) continue;
        const child = t.script ? await startChild(t.script, [upstreamUrl, ...('extra' in t ? [t.extra] : [])]) : null;
        children.set(t.target, child);
        answered.set(t.target, await checkAnswers(urlOf(child)));
        await fire(urlOf(child), { connections, duration: warmup });
      }
      const live = PROXY_TARGETS.filter((t) => children.has(t.target));
      const oursLive = live.find((t) => t.target === 'ours');
      const peersLive = live.filter((t) => isBudgetPeer(t.target));
      const infoLive = live.filter((t) => t.target !== 'ours' && !isBudgetPeer(t.target));
      /** @param {typeof live[number]} t */
      const measure = async (t) => {
        const child = children.get(t.target);
        const cpu0 = child ? await child.cpu() : NaN;
        const up0 = await upstream.cpu();
        const r = await fire(urlOf(child), { connections, duration });
        const cpu1 = child ? await child.cpu() : NaN;
        const up1 = await upstream.cpu();
        const hits = Math.max(1, r.total);
        /** @type {RoundResult} */
        const result = { ...r, cpuPerHit: (cpu1 - cpu0) / hits, upstreamCpuPerHit: (up1 - up0) / hits };
        (rounds.get(t.target) ?? rounds.set(t.target, []).get(t.target))?.push(result);
        return result;
      };
      for (let round = 0; round < roundCount; round++) {
        // Each budget peer runs right next to ours (peer then ours, or ours then peer, alternating
        // by round), so each ratio compares two runs a few seconds apart; the peers' order rotates.
        const peers = peersLive.map((_, i) => peersLive[(i + round) % peersLive.length]);
        for (const [i, peer] of peers.entries()) {
          if (!peer) continue;
          // The information rows (the upstream direct, hpm with keep-alive) once per round too.
          const info = i < infoLive.length ? infoLive[(i + round) % infoLive.length] : undefined;
          if (info) {
            const r = await measure(info);
            log(`proxy: round ${round + 1}/${roundCount} ${info.target} ${Math.round(r.rps)} req/s p99 ${r.p99} ms`);
          }
          const pair = oursLive ? (round % 2 === 0 ? [peer, oursLive] : [oursLive, peer]) : [peer];
          /** @type {Map<string, RoundResult>} */
          const got = new Map();
          for (const t of pair) got.set(t.target, await measure(t));
          const theirs = got.get(peer.target);
          const ours = got.get('ours');
          if (theirs && ours) (pairs.get(peer.target) ?? pairs.set(peer.target, []).get(peer.target))?.push({ ours, theirs });
          log(
            `proxy: round ${round + 1}/${roundCount} ${peer.target} ${Math.round(theirs?.rps ?? NaN)} req/s p99 ${theirs?.p99} ms, ${Math.round(theirs?.cpuPerHit ?? NaN)} µs CPU/hit` +
              (ours ? ` | ours ${Math.round(ours.rps)} req/s p99 ${ours.p99} ms, ${Math.round(ours.cpuPerHit)} µs CPU/hit` : ''),
          );
        }
      }
    } finally {
      for (const child of children.values()) await child?.stop();
    }
    for (const t of PROXY_TARGETS) {
      const list = rounds.get(t.target);
      if (!list) {
        rows.push({ target: t.target, label: t.label, status: 'pending', rps: NaN, rpsMin: NaN, rpsMax: NaN, p50: NaN, p99: NaN, cpuPerHit: NaN, upstreamCpuPerHit: NaN, total: 0, non2xx: 0, errors: 0, rounds: [] });
        continue;
      }
      const non2xx = list.reduce((n, r) => n + r.non2xx, 0);
      const errors = list.reduce((n, r) => n + r.errors, 0);
      rows.push({
        target: t.target,
        label: t.label,
        status: answered.get(t.target) && non2xx === 0 && errors === 0 ? 'ok' : 'broken',
        rps: median(list.map((r) => r.rps)),
        rpsMin: Math.min(...list.map((r) => r.rps)),
        rpsMax: Math.max(...list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        cpuPerHit: median(list.map((r) => r.cpuPerHit)),
        upstreamCpuPerHit: median(list.map((r) => r.upstreamCpuPerHit)),
        total: list.reduce((n, r) => n + r.total, 0),
        non2xx,
        errors,
        rounds: list,
      });
    }

    if (real) {
      // A fresh relay process: warm up (JIT, connection pools, allocator arenas), then 100k more
      // requests in four steps, reading RSS after a forced GC at each step to show the trend.
      const child = await startChild('ours-server.mjs', [upstreamUrl]);
      try {
        const url = urlOf(child);
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
  const direct = byTarget('direct');
  const perRound = {
    oursVsPassthroughRps: pairRatios(pairs, 'passthrough'),
    oursVsFastifyRps: pairRatios(pairs, 'fastify'),
    oursVsHpmRps: pairRatios(pairs, 'hpm'),
  };
  return {
    settings: { connections, duration, rounds: roundCount, warmup, rssRequests, rssWarmup, body: EVENT_BODY.length },
    seconds: (Date.now() - startedAt) / 1000,
    rows,
    memory,
    perRound,
    ratios: {
      oursVsPassthroughRps: median(perRound.oursVsPassthroughRps),
      oursVsFastifyRps: median(perRound.oursVsFastifyRps),
      oursVsHpmRps: median(perRound.oursVsHpmRps),
      oursVsDirectRps: ratio(ours?.rps ?? NaN, direct?.rps ?? NaN),
    },
  };
}

/** `--quick`: one short round, and RSS over 20k requests instead of 100k (not valid for the budget). */
export const QUICK_PROXY = { duration: 2, warmup: 1, rounds: 1, rssRequests: 20_000, rssWarmup: 30_000 };

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  runProxyBench({ ...(quick ? QUICK_PROXY : {}), log: (l) => console.error(l) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
