/**
 * The benchmark harness itself, checked cheaply and without timing: the size benchmark measures
 * real files with real gzip/brotli, names files that exist, and the budget check turns numbers
 * into the verdicts `npm run bench -- --check` acts on.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compressedSizes, ourBuildIsReal, runSizeBench } from '../../bench/size-bench.mjs';
import { evaluateBudgets, SCRIPT_GZIP_BUDGET } from '../../bench/lib/budgets.mjs';
import { peersInstalled } from '../../bench/lib/peers.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('size benchmark', () => {
  it('compressedSizes reports the real gzip -9 and brotli sizes', () => {
    const text = 'mt("send","pageview");\n'.repeat(400);
    const sizes = compressedSizes(text);
    expect(sizes.raw).toBe(Buffer.byteLength(text));
    expect(sizes.gzip).toBe(gzipSync(text, { level: 9 }).length);
    expect(gunzipSync(gzipSync(text, { level: 9 })).toString()).toBe(text);
    // Highly repetitive input compresses by far more than 10×, with brotli at least as well as gzip here.
    expect(sizes.gzip).toBeLessThan(sizes.raw / 10);
    expect(sizes.brotli).toBeLessThanOrEqual(sizes.gzip);
  });

  it('measures every tracker from files that exist, with sane numbers', { timeout: 60_000 }, async () => {
    const { rows, versions } = await runSizeBench();
    expect(rows.map((r) => r.id)).toEqual(['ours-script', 'ours-npm', 'posthog-array', 'posthog-full', 'segment-standalone', 'plausible-npm']);
    const byId = new Map(rows.map((r) => [r.id, r]));

    // Our rows are measured once the SDK is built, and marked pending (not zero) before.
    const real = ourBuildIsReal();
    expect(byId.get('ours-script')?.status).toBe(real.script ? 'ok' : 'pending');
    expect(byId.get('ours-npm')?.status).toBe(real.entry ? 'ok' : 'pending');
    if (real.entry) expect(byId.get('ours-npm')?.raw).toBeGreaterThan(500);

    // The peers live in bench/node_modules, installed by `npm run bench`, not by the package's
    // `npm ci`: without them their rows say so, and are not numbers.
    if (!peersInstalled()) {
      expect(versions).toEqual({});
      for (const row of rows.filter((r) => r.tracker !== 'ours')) {
        expect(row.status, row.id).toBe('pending');
        expect(row.source, row.id).toContain('npm ci --prefix bench');
        expect(row.gzip, row.id).toBeNaN();
      }
      return;
    }
    expect(Object.keys(versions).sort()).toEqual(['@segment/analytics-next', 'plausible-tracker', 'posthog-js']);

    for (const row of rows.filter((r) => r.status === 'ok')) {
      expect(row.gzip, row.id).toBeGreaterThan(100);
      expect(row.gzip, row.id).toBeLessThan(row.raw);
      expect(row.brotli, row.id).toBeLessThan(row.raw);
      // A file row names the exact file it measured, byte for byte.
      const file = row.source.split(' ')[0] ?? '';
      if (!row.source.includes(' ')) {
        expect(existsSync(path.join(ROOT, file)), file).toBe(true);
        expect(row.raw, file).toBe(statSync(path.join(ROOT, file)).size);
        expect(row.gzip, file).toBe(gzipSync(readFileSync(path.join(ROOT, file)), { level: 9 }).length);
      }
    }

    // The peers are real browser builds: hundreds of kilobytes for PostHog's and Segment's.
    expect(byId.get('posthog-array')?.raw).toBeGreaterThan(100_000);
    expect(byId.get('posthog-full')?.raw).toBeGreaterThan(byId.get('posthog-array')?.raw ?? Infinity);
    expect(byId.get('segment-standalone')?.raw).toBeGreaterThan(50_000);

    // Plausible is bundled like a bundler would: tree-shaken and minified, so smaller than its sources.
    const plausible = byId.get('plausible-npm');
    const moduleDir = path.join(ROOT, 'bench/node_modules/plausible-tracker/build/module');
    const sources = ['index.js', 'lib/tracker.js', 'lib/request.js'].reduce((n, f) => n + statSync(path.join(moduleDir, f)).size, 0);
    expect(plausible?.status).toBe('ok');
    expect(plausible?.raw).toBeGreaterThan(500);
    expect(plausible?.raw).toBeLessThan(sources);
  });
});

describe('budget check', () => {
  const sizeRow = (gzip: number) => ({ id: 'ours-script', tracker: 'ours' as const, label: 'ours', source: 'dist/mtc.js', status: 'ok' as const, raw: gzip * 2, gzip, brotli: gzip });
  // Peers at fixed rates; ours at `rps` in every round, so each per-round ratio is ours/peer.
  const peers = { direct: { rps: 20_000, p99: 3 }, passthrough: { rps: 10_000, p99: 8 }, fastify: { rps: 5_000, p99: 15 }, hpm: { rps: 2_000, p99: 20 } };
  const proxy = (ours: { rps: number; p99: number }, growthMb: number, rounds = 3) => ({
    rows: [
      { target: 'direct' as const, status: 'ok' as const, ...peers.direct },
      { target: 'passthrough' as const, status: 'ok' as const, ...peers.passthrough },
      { target: 'ours' as const, status: 'ok' as const, ...ours },
      { target: 'fastify' as const, status: 'ok' as const, ...peers.fastify },
      { target: 'hpm' as const, status: 'ok' as const, ...peers.hpm },
    ],
    memory: { warmRss: 50 * 2 ** 20, afterRss: (50 + growthMb) * 2 ** 20, growth: growthMb * 2 ** 20, requests: 100_000, non2xx: 0, errors: 0 },
    perRound: {
      oursVsPassthroughRps: Array<number>(rounds).fill(ours.rps / peers.passthrough.rps),
      oursVsFastifyRps: Array<number>(rounds).fill(ours.rps / peers.fastify.rps),
      oursVsHpmRps: Array<number>(rounds).fill(ours.rps / peers.hpm.rps),
    },
    ratios: {
      oursVsPassthroughRps: ours.rps / peers.passthrough.rps,
      oursVsFastifyRps: ours.rps / peers.fastify.rps,
      oursVsHpmRps: ours.rps / peers.hpm.rps,
      oursVsDirectRps: ours.rps / peers.direct.rps,
    },
  });

  it('passes numbers within every budget', () => {
    const budgets = evaluateBudgets({
      size: { rows: [sizeRow(SCRIPT_GZIP_BUDGET)] },
      browser: {
        rows: ['pv1', 'pv20ev20'].flatMap((scenario) => [
          { tracker: 'ours', scenario, status: 'ok' as const, scriptMs: 3 },
          { tracker: 'posthog', scenario, status: 'ok' as const, scriptMs: 100 },
          { tracker: 'none', scenario, status: 'ok' as const, scriptMs: 0.1 },
        ]),
      },
      proxy: proxy({ rps: 8_500, p99: 8 }, 2),
    });
    expect(budgets.map((b) => b.verdict)).toEqual(Array(budgets.length).fill('pass'));
    expect(budgets).toHaveLength(9);
    // The pass-through budget is a share, met exactly at 85%.
    expect(budgets.find((b) => b.name.includes('pass-through'))?.actual).toContain('85%');
  });

  it('fails each budget that is missed, and marks what was not measured as pending', () => {
    const budgets = evaluateBudgets({
      size: { rows: [sizeRow(SCRIPT_GZIP_BUDGET + 1)] },
      browser: {
        rows: [
          { tracker: 'ours', scenario: 'pv1', status: 'ok', scriptMs: 20 },
          { tracker: 'plausible', scenario: 'pv1', status: 'ok', scriptMs: 10 },
          { tracker: 'ours', scenario: 'pv20ev20', status: 'pending', scriptMs: NaN },
          { tracker: 'plausible', scenario: 'pv20ev20', status: 'ok', scriptMs: 10 },
        ],
      },
      proxy: proxy({ rps: 4_500, p99: 30 }, 12),
    });
    const verdict = (prefix: string) => budgets.find((b) => b.name.startsWith(prefix))?.verdict;
    expect(verdict('dist/mtc.js size')).toBe('fail');
    expect(verdict('browser script time, 1 pageview')).toBe('fail');
    expect(budgets.find((b) => b.name.startsWith('browser script time, 1 pageview'))?.why).toContain('plausible');
    expect(verdict('browser script time, 20 pageviews')).toBe('pending');
    expect(verdict('proxy throughput vs node:http pass-through')).toBe('fail'); // 45%
    expect(verdict('proxy throughput vs @fastify/http-proxy')).toBe('fail'); // 0.9×
    expect(verdict('proxy throughput vs http-proxy-middleware')).toBe('pass'); // 2.25×
    expect(verdict('proxy p99 latency vs @fastify/http-proxy')).toBe('fail');
    expect(verdict('proxy p99 latency vs http-proxy-middleware')).toBe('fail');
    expect(verdict('proxy RSS growth')).toBe('fail');
  });

  it('marks a proxy budget pending, not passed, when a peer did not answer correctly', () => {
    const input = proxy({ rps: 8_500, p99: 8 }, 2);
    const rows = input.rows.map((r) => (r.target === 'fastify' ? { ...r, status: 'broken' as const } : r));
    const budgets = evaluateBudgets({ proxy: { ...input, rows } });
    const byName = (part: string) => budgets.filter((b) => b.name.includes(part)).map((b) => b.verdict);
    expect(byName('@fastify/http-proxy')).toEqual(['pending', 'pending']);
    expect(byName('pass-through')).toEqual(['pass']);
  });
});
