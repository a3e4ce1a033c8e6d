/**
 * The signed binding cookie: proof, minted by this proxy from a Mautic answer, that this browser
 * is Mautic contact `contactId` on device `deviceId`. Identification trusts only this, never a
 * contact id sent by the browser (ids are sequential and guessable).
 *
 * Format: `v1.<contactId>.<deviceId>.<issuedAtSeconds>.<base64url HMAC-SHA256>`; the HMAC input
 * is domain-separated (`mautic-tracker/binding/v1|…`) so no other signature can be replayed here.
 */
import { DEVICE_ID_PATTERN } from '../../protocol/wire.js';
import { hmacSign, hmacVerify, importHmacKey } from './crypto.js';

export interface Binding {
  contactId: number;
  /** May be '' when the contact was created by identify before any tracking hit. */
  deviceId: string;
  issuedAt: number;
}

const DOMAIN = 'mautic-tracker/binding/v1';
const MAX_CLOCK_SKEW_S = 300;

export class BindingSigner {
  private readonly key: Promise<CryptoKey>;

  constructor(
    secret: string,
    private readonly maxAgeSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = importHmacKey(secret);
  }

  async sign(contactId: number, deviceId: string): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    const payload = `${contactId}.${deviceId}.${issuedAt}`;
    return `v1.${payload}.${await hmacSign(await this.key, `${DOMAIN}|${payload}`)}`;
  }

  /** Returns the binding, or null for anything forged, tampered, malformed or too old. */
  async verify(value: string | undefined): Promise<Binding | null> {
    if (!value || value.length > 256) return null;
    const parts = value.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') return null;
    const [, cid, device, iat, sig] = parts as [string, string, string, string, string];
    if (!/^[1-9]\d{0,15}$/.test(cid) || !/^\d{1,12}$/.test(iat)) return null;
    if (device !== '' && !DEVICE_ID_PATTERN.test(device)) return null;
    if (!(await hmacVerify(await this.key, `${DOMAIN}|${cid}.${device}.${iat}`, sig))) return null;
    const issuedAt = Number(iat);
    const nowS = Math.floor(this.now() / 1000);
    if (issuedAt > nowS + MAX_CLOCK_SKEW_S || nowS - issuedAt > this.maxAgeSeconds) return null;
    const contactId = Number(cid);
    if (!Number.isSafeInteger(contactId)) return null;
    return { contactId, deviceId: device, issuedAt };
  }
}
