/**
 * Small statistics helpers shared by the benchmarks. Medians (not means) because the machines
 * these run on are shared and noisy: one stalled run must not move the reported number.
 */

/**
 * @param {number[]} values
 * @returns {number} the median, or NaN for an empty list
 */
export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? /** @type {number} */ (finite[mid]) : (/** @type {number} */ (finite[mid - 1]) + /** @type {number} */ (finite[mid])) / 2;
}

/**
 * @param {number} ours
 * @param {number} theirs
 * @returns {number} ours/theirs, NaN when either side is missing or theirs is 0
 */
export function ratio(ours, theirs) {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return NaN;
  return ours / theirs;
}

/** @param {number} n @param {number} [digits] */
export function fmt(n, digits = 0) {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** @param {number} r */
export function fmtRatio(r) {
  return Number.isFinite(r) ? `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}×` : '–';
}
