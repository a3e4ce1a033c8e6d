/** Values as Mautic's database layer hands them out: PHP-serialized arrays, MySQL datetimes. */

/** `serialize()` of a flat string map: `a:1:{s:4:"type";s:7:"browser";}` (lengths in UTF-8 bytes). */
export function phpSerialize(values: Record<string, string> | null): string {
  if (values === null) return 'a:0:{}';
  const str = (text: string): string => `s:${Buffer.byteLength(text, 'utf8')}:"${text}";`;
  const entries = Object.entries(values);
  return `a:${entries.length}:{${entries.map(([key, value]) => str(key) + str(value)).join('')}}`;
}

/** '2026-12-01 07:54:13' (UTC), as a DATETIME column reads. */
export function mysqlDateTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** '2026-12-01T07:54:13+00:00', as Mautic's serializer writes dates. */
export function mauticDate(iso: string | null): string | null {
  return iso === null ? null : `${iso.slice(0, 19)}+00:00`;
}
