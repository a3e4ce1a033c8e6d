/**
 * The budgets of issue 5, evaluated on one run's results. A budget whose inputs are missing (our
 * build not there yet, a broken relay) is 'pending' and fails `--check` like a miss: a check that
 * cannot be made is not a pass.
 */
import { fmt, fmtRatio } from './stats.mjs';

/** dist/mtc.js, gzip -9 bytes: the same budget as bench/size.mjs (issue 13: tracking plus what Mautic's script does for a site). */
export const SCRIPT_GZIP_BUDGET = 2816;
export const RSS_GROWTH_BUDGET = 10 * 1024 * 1024;

/**
 * @typedef {object} Budget
 * @property {string} name
 * @property {string} limit     the budget, in words
 * @property {string} actual    the measured value(s)
 * @property {'pass' | 'fail' | 'pending'} verdict
 * @property {string} [why]
 */

/**
 * @param {{ size?: { rows: import('../size-bench.mjs').SizeRow[] }, browser?: { rows: import('../browser-bench.mjs').BrowserRow[] }, proxy?: Awaited<ReturnType<typeof import('../proxy-bench.mjs').runProxyBench>> }} results
 * @returns {Budget[]}
 */
export function evaluateBudgets(results) {
  /** @type {Budget[]} */
  const budgets = [];

  if (results.size) {
    const row = results.size.rows.find((r) => r.id === 'ours-script');
    const ok = row && row.status === 'ok';
    budgets.push({
      name: 'dist/mtc.js size',
      limit: `≤ ${fmt(SCRIPT_GZIP_BUDGET)} B gzip -9`,
      actual: ok ? `${fmt(row.gzip)} B` : 'not built',
      verdict: !ok ? 'pending' : row.gzip <= SCRIPT_GZIP_BUDGET ? 'pass' : 'fail',
    });
  }

  if (results.browser) {
    for (const scenario of ['pv1', 'pv20ev20']) {
      const rows = results.browser.rows.filter((r) => r.scenario === scenario);
      const ours = rows.find((r) => r.tracker === 'ours');
      const peers = rows.filter((r) => r.tracker !== 'ours' && r.tracker !== 'none');
      const measured = ours && ours.status === 'ok' && Number.isFinite(ours.scriptMs);
      const slower = measured ? peers.filter((p) => !(ours.scriptMs < p.scriptMs)) : [];
      budgets.push({
        name: `browser script time, ${scenario === 'pv1' ? '1 pageview' : '20 pageviews + 20 events'}`,
        limit: 'ours < every peer (median ScriptDuration)',
        actual: measured
          ? `ours ${fmt(ours.scriptMs, 1)} ms; ${peers.map((p) => `${p.tracker} ${fmt(p.scriptMs, 1)}`).join(', ')}`
          : 'not measured',
        verdict: !measured ? 'pending' : slower.length === 0 ? 'pass' : 'fail',
        ...(slower.length ? { why: `not faster than ${slower.map((p) => p.tracker).join(', ')}` } : {}),
      });
    }
  }

  if (results.proxy) {
    const rows = results.proxy.rows;
    const ours = rows.find((r) => r.target === 'ours');
    const hpm = rows.find((r) => r.target === 'hpm');
    const direct = rows.find((r) => r.target === 'direct');
    const okAll = ours?.status === 'ok' && hpm?.status === 'ok' && direct?.status === 'ok';
    const pend = !okAll ? `not measured (ours ${ours?.status ?? 'missing'}, hpm ${hpm?.status}, direct ${direct?.status})` : '';
    const r = results.proxy.ratios;
    budgets.push({
      name: 'proxy throughput vs http-proxy-middleware',
      limit: '≥ 2× req/s',
      actual: okAll && ours && hpm ? `${fmt(ours.rps)} vs ${fmt(hpm.rps)} req/s = ${fmtRatio(r.oursVsHpmRps)}` : pend,
      verdict: !okAll ? 'pending' : r.oursVsHpmRps >= 2 ? 'pass' : 'fail',
    });
    budgets.push({
      name: 'proxy p99 latency vs http-proxy-middleware',
      limit: 'p99 ≤ hpm p99',
      actual: okAll && ours && hpm ? `${fmt(ours.p99)} vs ${fmt(hpm.p99)} ms` : pend,
      verdict: !okAll || !ours || !hpm ? 'pending' : ours.p99 <= hpm.p99 ? 'pass' : 'fail',
    });
    budgets.push({
      name: 'proxy throughput vs upstream direct',
      limit: '≥ 50% of direct req/s',
      actual: okAll && ours && direct ? `${fmt(ours.rps)} vs ${fmt(direct.rps)} req/s = ${fmt(r.oursVsDirectRps * 100)}%` : pend,
      verdict: !okAll ? 'pending' : r.oursVsDirectRps >= 0.5 ? 'pass' : 'fail',
    });
    const m = results.proxy.memory;
    const mOk = m && m.non2xx === 0 && m.errors === 0;
    budgets.push({
      name: `proxy RSS growth over ${m ? fmt(m.requests) : '100,000'} requests`,
      limit: '< 10 MB (after forced GC, vs after warm-up)',
      actual: m ? `${(m.warmRss / 2 ** 20).toFixed(1)} → ${(m.afterRss / 2 ** 20).toFixed(1)} MB (${m.growth >= 0 ? '+' : ''}${(m.growth / 2 ** 20).toFixed(1)} MB)` : 'not measured',
      verdict: !mOk ? 'pending' : m.growth < RSS_GROWTH_BUDGET ? 'pass' : 'fail',
      ...(m && m.requests < 100_000 ? { why: `only ${fmt(m.requests)} requests (--quick); the budget is for 100,000` } : {}),
    });
  }
  return budgets;
}
