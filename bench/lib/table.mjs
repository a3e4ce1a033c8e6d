/**
 * Renders rows as a Markdown table with padded columns: readable in a terminal and pasteable
 * into the README as is.
 */

/**
 * @param {string[]} header
 * @param {string[][]} rows
 * @param {('l' | 'r')[]} [align]  per column; default: first left, the rest right
 */
export function markdownTable(header, rows, align) {
  const al = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  /** @param {string[]} cells */
  const line = (cells) =>
    `| ${cells.map((c, i) => (al[i] === 'r' ? (c ?? '').padStart(widths[i] ?? 0) : (c ?? '').padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (al[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
