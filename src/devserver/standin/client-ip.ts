/**
 * The client IP as Mautic determines it (docs/protocol.md §6): the first valid address among these
 * headers, then the socket address. Like Mautic there is no trusted-proxy check, which is exactly
 * why a proxy in front of Mautic must strip them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { MAUTIC_CLIENT_IP_HEADERS } from '../../protocol/wire.js';


export function clientIp(headers: IncomingHttpHeaders, socketAddress: string | undefined): string {
  for (const name of MAUTIC_CLIENT_IP_HEADERS) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (!value) continue;
    for (const candidate of value.split(',')) {
      const ip = normalize(candidate);
      if (ip) return ip;
    }
  }
  return normalize(socketAddress ?? '') ?? '127.0.0.1';
}

/** Accepts a bare IP, `for=<ip>` (RFC 7239) and IPv4-mapped IPv6; anything else is not an IP. */
function normalize(candidate: string): string | undefined {
  let value = candidate.trim();
  const forMatch = /(?:^|;)\s*for="?\[?([^\]";]+)\]?"?/i.exec(value);
  if (forMatch?.[1]) value = forMatch[1];
  if (value.startsWith('::ffff:') && isIP(value.slice(7)) === 4) value = value.slice(7);
  return isIP(value) ? value : undefined;
}
