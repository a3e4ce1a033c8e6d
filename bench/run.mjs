/**
 * `npm run bench [-- --quick] [-- --check] [-- --only=size,browser,proxy] [-- --runs=N]`
 *
 * Runs the size, browser and proxy benchmarks in one go, prints one report (Markdown tables), and
 * writes it as JSON to bench/results/<timestamp>.json and bench/results/latest.json (plus
 * latest.md). With --check, exits 1 when a budget is missed or could not be measured. First
 * installs the peers into bench/node_modules when they are missing (bench/package.json).
 * Every number is relative to peers measured in the same run: absolute values vary by machine.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { evaluateBudgets } from './lib/budgets.mjs';
import { ensurePeers } from './lib/peers.mjs';
import { markdownTable } from './lib/table.mjs';
import { fmt, fmtRatio, ratio } from './lib/stats.mjs';
import { DIST, RESULTS_DIR, ROOT } from './lib/paths.mjs';
import { findChromium } from './browser/chromium.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const check = args.includes('--check');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',') : ['size', 'browser', 'proxy']);
const runsArg = args.find((a) => a.startsWith('--runs='));
const runs = runsArg ? Math.max(1, Number(runsArg.slice('--runs='.length))) : quick ? 5 : 15;

/** @param {string} line */
const log = (line) => process.stderr.write(`${line}\n`);

function chromiumVersion() {
  try {
    return execFileSync(findChromium(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

// A clean clone has no dist/: build it once, so that `npm run bench` measures the sources. An
// existing dist/ is used as is (other work may be rebuilding it); its age is printed.
if (!existsSync(path.join(DIST, 'mtc.js')) || !existsSync(path.join(DIST, 'server.mjs'))) {
  log('bench: dist/ is missing, running `npm run build` first');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
} else {
  const built = statSync(path.join(DIST, 'mtc.js')).mtime;
  log(`bench: using dist/ built ${built.toISOString()} (run \`npm run build\` first to measure the current sources)`);
}

// The benchmarks import the peers (autocannon, the proxies), so they load only once those are in.
ensurePeers(log);
const { runSizeBench } = await import('./size-bench.mjs');
const { runBrowserBench } = await import('./browser-bench.mjs');
const { runProxyBench, QUICK_PROXY } = await import('./proxy-bench.mjs');

const startedAt = new Date();
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', loadBefore: os.loadavg().map((x) => +x.toFixed(2)), node: process.version, chromium: only.has('browser') ? chromiumVersion() : undefined };
log(`bench: ${quick ? 'quick' : 'full'} run, ${[...only].join(', ')}; load average ${machine.loadBefore.join(' ')} on ${machine.cpus} CPUs`);

/** @type {Parameters<typeof evaluateBudgets>[0]} */
const results = {};
if (only.has('size')) {
  log('bench: size');
  results.size = await runSizeBench();
}
if (only.has('browser')) {
  log(`bench: browser, ${runs} runs`);
  results.browser = await runBrowserBench({ runs, log });
}
if (only.has('proxy')) {
  log('bench: proxy');
  results.proxy = await runProxyBench({ ...(quick ? QUICK_PROXY : {}), log });
}
const budgets = evaluateBudgets(results);
const loadAfter = os.loadavg().map((x) => +x.toFixed(2));

// ---- the report ----
/** @type {string[]} */
const out = [];
out.push(`## mautic-tracker benchmarks (${quick ? 'quick' : 'full'} run, ${startedAt.toISOString()})`);
out.push('');
out.push(`Machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}${machine.chromium ? `, ${machine.chromium}` : ''}; load average ${machine.loadBefore[0]} before, ${loadAfter[0]} after. Command: \`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}\`.`);

if (results.size) {
  const ours = results.size.rows.find((r) => r.id === 'ours-script');
  out.push('', '### Size (bytes a visitor downloads)', '');
  out.push(
    markdownTable(
      ['tracker', 'raw', 'gzip -9', 'brotli', 'gzip vs dist/mtc.js', 'file measured'],
      results.size.rows.map((r) => [
        r.label,
        r.status === 'ok' ? fmt(r.raw) : 'pending',
        r.status === 'ok' ? fmt(r.gzip) : 'pending',
        r.status === 'ok' ? fmt(r.brotli) : 'pending',
        r.tracker === 'ours' || !ours || ours.status !== 'ok' ? '' : fmtRatio(ratio(ours.gzip, r.gzip)),
        r.source,
      ]),
      ['l', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
}

if (results.browser) {
  const b = results.browser;
  for (const scenario of ['pv1', 'pv20ev20']) {
    const rows = b.rows.filter((r) => r.scenario === scenario);
    const ours = rows.find((r) => r.tracker === 'ours' && r.status === 'ok');
    out.push('', `### Browser cost, ${scenario === 'pv1' ? '1 pageview' : '20 pageviews + 20 custom events'} (Chromium, median of ${b.runs} runs, trackers interleaved)`, '');
    out.push(
      markdownTable(
        ['tracker', 'script ms', 'task ms', 'nav → 1st hit ms', 'requests', 'hits', 'KB in+out', 'script ours/x', 'task ours/x', '1st hit ours/x', 'KB ours/x'],
        rows.map((r) => {
          const vs = /** @param {number} a @param {number} b */ (a, b) => (ours && r.tracker !== 'ours' && r.tracker !== 'none' ? fmtRatio(ratio(a, b)) : '');
          return [
            r.status === 'ok' ? `${r.name}${r.timeouts ? ` (${r.timeouts} timeouts)` : ''}` : `${r.name} (pending)`,
            fmt(r.scriptMs, 1),
            fmt(r.taskMs, 1),
            fmt(r.firstHitMs),
            fmt(r.requests),
            fmt(r.trackingRequests),
            fmt(r.bytes / 1024, 1),
            vs(ours?.scriptMs ?? NaN, r.scriptMs),
            vs(ours?.taskMs ?? NaN, r.taskMs),
            vs(ours?.firstHitMs ?? NaN, r.firstHitMs),
            vs(ours?.bytes ?? NaN, r.bytes),
          ];
        }),
      ),
    );
  }
  const escaped = b.rows.flatMap((r) => r.escaped);
  const errors = b.rows.filter((r) => r.pageErrors > 0).map((r) => `${r.tracker}/${r.scenario}: ${r.pageErrors}`);
  out.push(
    '',
    'script/task ms: CDP Performance.getMetrics ScriptDuration/TaskDuration of the tracker page (the "(no tracker)" row is the page\'s own floor). ' +
      'nav → 1st hit: from the page\'s navigation request to the first tracking request (CDP Network). requests: all requests the sink received for the page, CORS preflights included; hits: tracking requests among them. ' +
      'KB: bytes received (CDP encodedDataLength) + bytes sent (as received by the sink).' +
      (escaped.length ? ` Requests to other hosts (blocked): ${[...new Set(escaped)].slice(0, 5).join(', ')}.` : ' No request left the bench hosts.') +
      (errors.length ? ` Uncaught page errors: ${errors.join(', ')}.` : ''),
    '',
    'Setup: page on http://site.test, every tracker\'s script and endpoints on http://mautic.test (cross-site, as in production; both 127.0.0.1, every other host name fails to resolve), scripts served gzip -9, fresh browser context per load. ' +
      'Ours: Mautic\'s snippet (docs/protocol.md §1) loading dist/mtc.js. PostHog: its web snippet loading dist/array.js, with opt_out_useragent_filter (it drops automated browsers as bots otherwise). ' +
      'Segment: its analytics.js 5.x snippet loading dist/umd/standalone.js, settings from the sink with only the Segment.io destination. Plausible: the site\'s own bundle of plausible-tracker (rollup + terser).',
  );
}

if (results.proxy) {
  const p = results.proxy;
  const s = p.settings;
  const row = (/** @type {string} */ target) => p.rows.find((r) => r.target === target && r.status === 'ok');
  const direct = row('direct');
  const pass = row('passthrough');
  const share = (/** @type {typeof p.rows[number]} */ r, /** @type {typeof direct} */ base) => (r.status === 'ok' && base ? `${fmt(ratio(r.rps, base.rps) * 100)}%` : '');
  out.push('', `### Proxy: POST /mtc/event on loopback (autocannon, ${s.connections} connections, ${s.rounds} rounds of ${s.duration} s runs, medians, ${s.body} B body)`, '');
  out.push(
    markdownTable(
      ['relay', 'req/s', 'rounds min–max', 'p50 ms', 'p99 ms', 'CPU µs/hit', 'upstream CPU µs/hit', 'vs pass-through', 'vs direct', 'status'],
      p.rows.map((r) => [
        r.label,
        fmt(r.rps),
        r.rounds.length > 1 ? `${fmt(r.rpsMin)}–${fmt(r.rpsMax)}` : '',
        fmt(r.p50),
        fmt(r.p99),
        r.target === 'direct' ? '' : fmt(r.cpuPerHit),
        fmt(r.upstreamCpuPerHit),
        r.target === 'direct' ? '' : share(r, pass),
        share(r, direct),
        r.status,
      ]),
    ),
  );
  out.push(
    '',
    `Every relay is in front of the same upstream process (bench/proxy/upstream-server.mjs) and runs in every round; in each round, each of the three peers the budgets name runs right next to a run of ours (so ours has ${s.rounds * 3} runs, the others ${s.rounds}). req/s, p50 and p99 are medians over a row's runs; "rounds min–max" is the spread of its req/s over all its runs (the noise of a shared 2-core machine, where autocannon, the relay and the upstream share the cores). ` +
      'CPU µs/hit: user + system CPU time of the relay process (process.cpuUsage) over a run, divided by the hits it relayed, median over the row\'s runs; "upstream CPU µs/hit" is the same for the upstream process, so it shows what each relay costs the upstream (a relay without keep-alive makes it accept a connection per hit). status "broken": some answer was not a 2xx or a request failed (a row that answers errors fast must not look fast). ' +
      'The node:http pass-through is the ceiling of any Node relay: it forwards the request over a keep-alive agent and pipes the answer back, with no checks at all. The budgets compare ours with each peer run by run (the two ran back to back) and take the median of those ratios.',
  );
  out.push('', 'Each request is a first visit (no cookies), so our relay sets a binding cookie on every answer (the benchmark’s upstream always answers the same ids, so the relay’s small signature cache serves most of them; a real first visit pays one HMAC, ≈ 50 µs). "same + keep-alive agent" is informational: http-proxy opens a new upstream connection per request by default; the budget compares with the default.');
  if (p.memory) {
    const m = p.memory;
    out.push('', `RSS of our relay (after forced GC, lowest of 5 readings): ${(m.warmRss / 2 ** 20).toFixed(1)} MB after a ${fmt(m.warmupRequests)}-request warm-up, then ${m.series.slice(1).map((x) => (x / 2 ** 20).toFixed(1)).join(' → ')} MB every ${fmt(m.requests / 4)} requests (heap ${(m.warmHeap / 2 ** 20).toFixed(1)} → ${(m.afterHeap / 2 ** 20).toFixed(1)} MB).`);
  }
  out.push('', `The proxy benchmark took ${fmt(p.seconds)} s.`);
}

if (only.has('proxy') || only.has('store')) out.push('', await (await import('./proxy/store-bench.mjs')).storeBenchSection({ quick, log }));
out.push('', '### Budgets (`npm run bench -- --check`)', '');
out.push(
  markdownTable(
    ['budget', 'limit', 'measured', 'result'],
    budgets.map((x) => [x.name, x.limit, x.actual, `${x.verdict.toUpperCase()}${x.why ? ` (${x.why})` : ''}`]),
    ['l', 'l', 'l', 'l'],
  ),
);
out.push('', `Numbers from a shared, noisy machine are provisional: compare the ratios within one run, not absolute values across runs. The whole run took ${fmt((Date.now() - startedAt.getTime()) / 1000)} s.`);
const report = out.join('\n');
console.log(report);

mkdirSync(RESULTS_DIR, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const json = JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick, args, machine: { ...machine, loadAfter }, ...results, budgets, report }, null, 2);
writeFileSync(path.join(RESULTS_DIR, `${stamp}.json`), json);
writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
writeFileSync(path.join(RESULTS_DIR, 'latest.md'), `${report}\n`);
log(`bench: wrote bench/results/${stamp}.json and latest.json`);

if (check) {
  const missed = budgets.filter((x) => x.verdict !== 'pass');
  if (missed.length) {
    log(`bench --check: ${missed.length} budget(s) not met: ${missed.map((x) => `${x.name} (${x.verdict})`).join('; ')}`);
    process.exitCode = 1;
  } else {
    log('bench --check: all budgets met');
  }
}
