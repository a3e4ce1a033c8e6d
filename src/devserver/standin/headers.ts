/** Header snapshots for the records, with credentials redacted (the dashboard shows them). */
import type { IncomingHttpHeaders } from 'node:http';

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (flat.authorization !== undefined) {
    const scheme = flat.authorization.trim().split(/\s+/)[0] ?? '';
    flat.authorization = `${scheme} [redacted]`;
  }
  return flat;
}

/** Hides `client_secret` (and any `password`) in a form or JSON body before it is recorded. */
export function redactBody(body: string): string {
  return body
    .replace(/((?:^|&)(?:client_secret|password)=)[^&]*/g, '$1[redacted]')
    .replace(/("(?:client_secret|password)"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"[redacted]"');
}
