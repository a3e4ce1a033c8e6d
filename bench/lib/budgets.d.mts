/** Types of bench/lib/budgets.mjs, for the TypeScript tests in test/bench/. */
import type { SizeRow } from '../size-bench.mjs';
export const SCRIPT_GZIP_BUDGET: number;
export const RSS_GROWTH_BUDGET: number;
export const PASSTHROUGH_SHARE_BUDGET: number;
export interface Budget {
  name: string;
  limit: string;
  actual: string;
  verdict: 'pass' | 'fail' | 'pending';
  why?: string;
}
export type ProxyTarget = 'direct' | 'passthrough' | 'ours' | 'fastify' | 'hpm' | 'hpm-keepalive';
export interface BudgetInputs {
  size?: { rows: SizeRow[] };
  browser?: { rows: { tracker: string; scenario: string; status: 'ok' | 'pending'; scriptMs: number }[] };
  proxy?: {
    rows: { target: ProxyTarget; status: 'ok' | 'pending' | 'broken'; rps: number; p99: number }[];
    memory: { warmRss: number; afterRss: number; growth: number; requests: number; non2xx: number; errors: number } | null;
    /** Ours over each peer, one ratio per round (the rounds ran both back to back). */
    perRound: { oursVsPassthroughRps: number[]; oursVsFastifyRps: number[]; oursVsHpmRps: number[] };
    /** Medians of `perRound`; `oursVsDirectRps` is a ratio of the two rows' medians (information). */
    ratios: { oursVsPassthroughRps: number; oursVsFastifyRps: number; oursVsHpmRps: number; oursVsDirectRps: number };
  };
}
export function evaluateBudgets(results: BudgetInputs): Budget[];
