/**
 * Strict IP address syntax, Web-standard (the core runs where `node:net` does not). Only what a
 * socket address can be: a dotted-quad IPv4 address or an RFC 4291 text IPv6 address. No port,
 * no brackets, no zone (`%eth0`), no CIDR suffix, no leading zeros in IPv4 parts (which some
 * parsers read as octal).
 */

const IPV4_PART = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** `1.2.3.4`: four decimal parts 0–255. */
export function isIPv4(text: string): boolean {
  return text.length <= 15 && IPV4.test(text);
}

/** `2001:db8::1`, `::`, `::ffff:1.2.3.4`: eight hex groups, at most one `::`, an IPv4 tail allowed. */
export function isIPv6(text: string): boolean {
  if (text.length < 2 || text.length > 45) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  let count = all.length;
  // An embedded IPv4 address stands for the last two groups.
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((group) => HEX_GROUP.test(group))) return false;
  // `::` stands for at least one zero group.
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** True for a valid IPv4 or IPv6 address, as defined above. */
export function isIpAddress(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}
