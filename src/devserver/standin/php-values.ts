/** Values as Mautic's database layer hands them out: PHP-serialized arrays, MySQL datetimes. */

/** PHP's `serialize()` of JSON-like data (`a:1:{s:4:"type";s:7:"browser";}`, lengths in UTF-8 bytes). */
export function phpSerialize(value: unknown): string {
  if (value === null || value === undefined) return 'N;';
  if (typeof value === 'boolean') return `b:${value ? 1 : 0};`;
  if (typeof value === 'number') return Number.isInteger(value) ? `i:${value};` : `d:${value};`;
  if (typeof value === 'string') return `s:${Buffer.byteLength(value, 'utf8')}:"${value}";`;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index): [number, unknown] => [index, item])
    : Object.entries(value as Record<string, unknown>);
  const key = (k: string | number): string => (typeof k === 'number' || /^(0|[1-9]\d*)$/.test(k) ? `i:${k};` : phpSerialize(k));
  return `a:${entries.length}:{${entries.map(([k, item]) => key(k) + phpSerialize(item)).join('')}}`;
}

/** '2026-12-01 07:54:13' (UTC), as a DATETIME column reads. */
export function mysqlDateTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** '2026-12-01T07:54:13+00:00', as Mautic's serializer writes dates. */
export function mauticDate(iso: string | null): string | null {
  return iso === null ? null : `${iso.slice(0, 19)}+00:00`;
}
