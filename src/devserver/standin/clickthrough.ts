/**
 * Mautic's `ct` clickthrough parameter: base64 of an encoded array that may name a contact (`lead`).
 * The stand-in accepts base64 JSON (`{"lead":5}`) and base64 PHP-serialized arrays
 * (`a:1:{s:4:"lead";i:5;}`); anything else is malformed, and Mautic answers `{"success":0}`.
 */

export type Clickthrough = { malformed: true } | { malformed: false; leadId: number | null };

export function decodeClickthrough(ct: string): Clickthrough {
  const normalized = ct.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(normalized)) return { malformed: true };
  const text = Buffer.from(normalized, 'base64').toString('utf8');
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { malformed: true };
      const lead = (parsed as Record<string, unknown>).lead;
      return { malformed: false, leadId: toId(lead) };
    } catch {
      return { malformed: true };
    }
  }
  if (/^a:\d+:\{.*\}$/s.test(text)) {
    const match = /s:4:"lead";(?:i:(\d+)|s:\d+:"(\d+)")/.exec(text);
    return { malformed: false, leadId: toId(match?.[1] ?? match?.[2]) };
  }
  return { malformed: true };
}

/** Encodes a clickthrough the way tests and demo e-mails can use it. */
export function encodeClickthrough(leadId: number): string {
  return Buffer.from(JSON.stringify({ lead: leadId })).toString('base64');
}

function toId(value: unknown): number | null {
  const id = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(id) && id > 0 ? id : null;
}
