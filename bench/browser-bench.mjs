/**
 * Browser-cost benchmark: each tracker's page in Chromium, scenario by scenario, trackers
 * interleaved run by run (and rotated, so none always goes first). Per page load it records, from
 * the Chrome DevTools Protocol: main-thread script time and task time (Performance.getMetrics
 * deltas), bytes received (Network.loadingFinished), the time from the navigation's request to
 * the first tracking request; and, from the sink: requests on the wire (CORS preflights included)
 * and bytes sent. Reports medians and ratios ours/peer.
 *
 * Run alone: `node bench/browser-bench.mjs [--quick]` (prints JSON).
 */
import { pathToFileURL } from 'node:url';
import { launchBenchChromium, BENCH_HOSTS } from './browser/chromium.mjs';
import { startSink } from './browser/sink.mjs';
import { TRACKERS, SCENARIOS, trackerAssets, segmentSettings, html } from './browser/trackers.mjs';
import { median, ratio } from './lib/stats.mjs';
import { ourBuildIsReal } from './size-bench.mjs';

/** Quiet time after the last request before a page counts as settled (every tracker here sends its hits in bursts well under this apart). */
const QUIET_MS = 300;
const SETTLE_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} Sample
 * @property {number} scriptMs     ScriptDuration delta
 * @property {number} taskMs       TaskDuration delta
 * @property {number} firstHitMs   navigation request → first tracking request (NaN if none)
 * @property {number} requests     requests the sink received (page document excluded, preflights included)
 * @property {number} trackingRequests
 * @property {number} bytesIn      encoded bytes received by the page (document excluded)
 * @property {number} bytesOut     bytes the sink received (document request excluded)
 * @property {number} pageErrors
 * @property {boolean} timedOut
 * @property {string[]} escaped    URLs of requests to any host other than the bench hosts
 */

/** @param {{ metrics: { name: string, value: number }[] }} m */
const metricMap = (m) => Object.fromEntries(m.metrics.map((x) => [x.name, x.value]));

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {import('playwright').Browser} browser
 * @param {Awaited<ReturnType<typeof startSink>>} sink
 * @param {import('./browser/trackers.mjs').TrackerSpec} spec
 * @param {import('./browser/trackers.mjs').Scenario} scenario
 * @returns {Promise<Sample>}
 */
async function measureOnce(browser, sink, spec, scenario, userAgent) {
  const site = `http://site.test:${sink.port}`;
  const pageUrl = `${site}/${spec.id}/${scenario}.html`;
  const context = await browser.newContext({ userAgent });
  try {
    const page = await context.newPage();
    let pageErrors = 0;
    page.on('pageerror', () => pageErrors++);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });

    /** @type {Map<string, { url: string, method: string, ts: number }>} */
    const sent = new Map();
    /** @type {string[]} */
    const escaped = [];
    let navTs = NaN;
    let firstHitTs = NaN;
    let bytesIn = 0;
    cdp.on('Network.requestWillBeSent', (e) => {
      const url = new URL(e.request.url);
      if (!url.protocol.startsWith('http')) return;
      if (!BENCH_HOSTS.includes(url.hostname)) escaped.push(e.request.url);
      if (e.type === 'Document' && e.request.url === pageUrl) navTs = e.timestamp;
      sent.set(e.requestId, { url: e.request.url, method: e.request.method, ts: e.timestamp });
      if (Number.isNaN(firstHitTs) && url.hostname === 'mautic.test' && spec.isTracking(e.request.method, url.pathname)) firstHitTs = e.timestamp;
    });
    cdp.on('Network.loadingFinished', (e) => {
      const req = sent.get(e.requestId);
      if (req && req.url !== pageUrl) bytesIn += e.encodedDataLength;
    });

    sink.reset();
    await page.goto(pageUrl, { waitUntil: 'load' });

    const started = performance.now();
    let timedOut = false;
    for (;;) {
      const reqs = sink.requests.filter((r) => r.path !== '/favicon.ico');
      const last = reqs[reqs.length - 1];
      const hits = reqs.filter((r) => spec.isTracking(r.method, r.path)).length;
      const quiet = performance.now() - (last ? last.at : started);
      if ((hits > 0 || spec.id === 'none') && quiet >= QUIET_MS) break;
      if (performance.now() - started > SETTLE_TIMEOUT_MS) {
        timedOut = true;
        break;
      }
      await sleep(50);
    }
    // Chromium restarts these counters for each new document, so the values read on the tracker
    // page are its whole cost since navigation (the '(no tracker)' row shows the page's own floor).
    const after = metricMap(await cdp.send('Performance.getMetrics'));
    const wire = sink.requests.filter((r) => r.path !== '/favicon.ico' && !(r.host.startsWith('site.test') && r.path === `/${spec.id}/${scenario}.html`));
    return {
      scriptMs: (after.ScriptDuration ?? NaN) * 1000,
      taskMs: (after.TaskDuration ?? NaN) * 1000,
      firstHitMs: (firstHitTs - navTs) * 1000,
      requests: wire.length,
      trackingRequests: wire.filter((r) => spec.isTracking(r.method, r.path)).length,
      bytesIn,
      bytesOut: wire.reduce((n, r) => n + r.upBytes, 0),
      pageErrors,
      timedOut,
      escaped,
    };
  } finally {
    await context.close();
  }
}

/**
 * @typedef {object} BrowserRow
 * @property {string} tracker
 * @property {string} name
 * @property {string} script
 * @property {string} scenario
 * @property {'ok' | 'pending'} status
 * @property {number} runs
 * @property {number} scriptMs    medians from here on
 * @property {number} taskMs
 * @property {number} firstHitMs
 * @property {number} requests
 * @property {number} trackingRequests
 * @property {number} bytes       in + out
 * @property {number} bytesIn
 * @property {number} bytesOut
 * @property {number} timeouts
 * @property {number} pageErrors
 * @property {string[]} escaped
 * @property {Record<string, { scriptMs: number, taskMs: number, firstHitMs: number, bytes: number, requests: number }>} [vsOurs]  ratios ours/this peer
 */

/**
 * @param {{ runs?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<{ runs: number, rows: BrowserRow[], samples: Record<string, Sample[]> }>}
 */
export async function runBrowserBench(options = {}) {
  const runs = options.runs ?? 15;
  const log = options.log ?? (() => {});
  const oursReal = ourBuildIsReal().script;
  const trackers = TRACKERS.filter((t) => t.id !== 'ours' || oursReal);

  /** @type {Map<string, string>} */
  const pages = new Map();
  const sinkHolder = { api: '' };
  // The port is known only after listen; pages and assets are filled right after.
  const assets = new Map();
  const sink = await startSink({ assets, pages, segmentSettings: (p) => segmentSettings(sinkHolder.api)(p) });
  const api = `http://mautic.test:${sink.port}`;
  sinkHolder.api = api;
  for (const [k, v] of await trackerAssets(api)) assets.set(k, v);
  pages.set('/blank.html', html('Blank', ''));
  for (const t of TRACKERS) for (const s of SCENARIOS) pages.set(`/${t.id}/${s}.html`, t.body(s, api));

  const browser = await launchBenchChromium();
  // Headless Chromium says "HeadlessChrome" in its User-Agent, and PostHog drops bot traffic: every
  // page gets the User-Agent of a regular Chrome of the same version.
  const userAgent = await (async () => {
    const page = await browser.newPage();
    const ua = await page.evaluate(() => navigator.userAgent);
    await page.close();
    return ua.replace('HeadlessChrome', 'Chrome');
  })();
  /** @type {Record<string, Sample[]>} */
  const samples = {};
  try {
    // One untimed warm-up round: first launches of each script hit cold disk and JIT caches.
    for (const s of SCENARIOS) for (const t of trackers) await measureOnce(browser, sink, t, s, userAgent);
    for (let run = 0; run < runs; run++) {
      for (const s of SCENARIOS) {
        const order = trackers.map((_, i) => trackers[(i + run) % trackers.length]);
        for (const t of order) {
          if (!t) continue;
          const sample = await measureOnce(browser, sink, t, s, userAgent);
          (samples[`${t.id}/${s}`] ??= []).push(sample);
        }
      }
      log(`browser: run ${run + 1}/${runs}`);
    }
  } finally {
    await browser.close();
    await sink.close();
  }

  /** @type {BrowserRow[]} */
  const rows = [];
  for (const s of SCENARIOS) {
    for (const t of TRACKERS) {
      const list = samples[`${t.id}/${s}`] ?? [];
      /** @param {(x: Sample) => number} f */
      const med = (f) => median(list.map(f));
      rows.push({
        tracker: t.id,
        name: t.name,
        script: t.script,
        scenario: s,
        status: list.length ? 'ok' : 'pending',
        runs: list.length,
        scriptMs: med((x) => x.scriptMs),
        taskMs: med((x) => x.taskMs),
        firstHitMs: med((x) => x.firstHitMs),
        requests: med((x) => x.requests),
        trackingRequests: med((x) => x.trackingRequests),
        bytes: med((x) => x.bytesIn + x.bytesOut),
        bytesIn: med((x) => x.bytesIn),
        bytesOut: med((x) => x.bytesOut),
        timeouts: list.filter((x) => x.timedOut).length,
        pageErrors: list.reduce((n, x) => n + x.pageErrors, 0),
        escaped: [...new Set(list.flatMap((x) => x.escaped))],
      });
    }
  }
  for (const row of rows) {
    const o = rows.find((r) => r.tracker === 'ours' && r.scenario === row.scenario);
    if (!o || row.tracker === 'ours' || row.tracker === 'none' || o.status !== 'ok') continue;
    row.vsOurs = {
      [row.tracker]: {
        scriptMs: ratio(o.scriptMs, row.scriptMs),
        taskMs: ratio(o.taskMs, row.taskMs),
        firstHitMs: ratio(o.firstHitMs, row.firstHitMs),
        bytes: ratio(o.bytes, row.bytes),
        requests: ratio(o.requests, row.requests),
      },
    };
  }
  return { runs, rows, samples };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  runBrowserBench({ runs: quick ? 3 : 15, log: (l) => console.error(l) }).then((r) => console.log(JSON.stringify(r.rows, null, 2)));
}
