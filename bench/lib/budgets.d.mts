/** Types of bench/lib/budgets.mjs, for the TypeScript tests in test/bench/. */
import type { SizeRow } from '../size-bench.mjs';
export const SCRIPT_GZIP_BUDGET: number;
export const RSS_GROWTH_BUDGET: number;
export interface Budget {
  name: string;
  limit: string;
  actual: string;
  verdict: 'pass' | 'fail' | 'pending';
  why?: string;
}
export interface BudgetInputs {
  size?: { rows: SizeRow[] };
  browser?: { rows: { tracker: string; scenario: string; status: 'ok' | 'pending'; scriptMs: number }[] };
  proxy?: {
    rows: { target: 'direct' | 'ours' | 'hpm'; status: 'ok' | 'pending' | 'broken'; rps: number; p99: number }[];
    memory: { warmRss: number; afterRss: number; growth: number; requests: number; non2xx: number; errors: number } | null;
    ratios: { oursVsHpmRps: number; oursVsDirectRps: number; oursVsHpmP99: number };
  };
}
export function evaluateBudgets(results: BudgetInputs): Budget[];
