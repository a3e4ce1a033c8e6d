/** Device ids as Mautic issues them: 23 characters of [0-9a-z]. */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
export const DEVICE_ID_LENGTH = 23;

export function newDeviceId(): string {
  const bytes = randomBytes(DEVICE_ID_LENGTH * 2);
  let id = '';
  // Rejection sampling keeps every character equally likely (252 = 7 × 36).
  for (const byte of bytes) {
    if (byte >= 252) continue;
    id += ALPHABET[byte % 36];
    if (id.length === DEVICE_ID_LENGTH) return id;
  }
  return id + newDeviceId().slice(0, DEVICE_ID_LENGTH - id.length);
}
