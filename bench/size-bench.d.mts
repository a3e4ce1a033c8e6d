/** Types of bench/size-bench.mjs, for the TypeScript tests in test/bench/. */
export interface SizeRow {
  id: string;
  tracker: 'ours' | 'posthog' | 'segment' | 'plausible';
  label: string;
  source: string;
  status: 'pending' | 'ok';
  raw: number;
  gzip: number;
  brotli: number;
  note?: string;
}
export function compressedSizes(data: Uint8Array | string): { raw: number; gzip: number; brotli: number };
export function ourBuildIsReal(): { script: boolean; entry: boolean };
export const OUR_NPM_USAGE: string;
export const PLAUSIBLE_NPM_USAGE: string;
export function runSizeBench(): Promise<{ rows: SizeRow[]; versions: Record<string, string> }>;
