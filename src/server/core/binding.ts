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
/** Entries kept per memo; each is at most ~300 bytes. */
const MEMO_SIZE = 1024;

/**
 * A bounded insertion-ordered memo. WebCrypto HMAC is asynchronous (a thread-pool job per call
 * on Node), which profiling showed as ~12% of a relayed hit; the same answer is never computed
 * twice while it is remembered.
 */
class Memo<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= MEMO_SIZE) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

/** A memoized signature: its promise, and its value once the HMAC resolved. */
interface Signature {
  promise: Promise<string>;
  value: string | null;
}

export class BindingSigner {
  private readonly key: Promise<CryptoKey>;
  /**
   * Signatures by payload (contact, device, second): concurrent first hits of one visitor,
   * sent before the browser stored the cookie, share one HMAC. Deterministic, so identical.
   */
  private readonly signed = new Memo<Signature>();
  /**
   * Cookie values whose HMAC already verified (never a failed one, so forgeries cannot fill it).
   * Age and clock skew are still checked on every use.
   */
  private readonly verified = new Memo<Binding>();

  constructor(
    secret: string,
    private readonly maxAgeSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = importHmacKey(secret);
  }

  async sign(contactId: number, deviceId: string): Promise<string> {
    const payload = this.payloadOf(contactId, deviceId);
    let signature = this.signed.get(payload);
    if (!signature) {
      const created: Signature = { promise: this.key.then((key) => hmacSign(key, `${DOMAIN}|${payload}`)), value: null };
      created.promise.then(
        (value) => {
          created.value = value;
        },
        () => this.signed.delete(payload),
      );
      this.signed.set(payload, created);
      signature = created;
    }
    return `v1.${payload}.${await signature.promise}`;
  }

  /**
   * `sign`'s value without waiting, when this second's signature for the pair is already known
   * (a visitor's hits before the browser stored the cookie); undefined when an HMAC is needed.
   * Lets the relay answer such hits without a promise per hit.
   */
  signedNow(contactId: number, deviceId: string): string | undefined {
    const payload = this.payloadOf(contactId, deviceId);
    const value = this.signed.get(payload)?.value;
    return value == null ? undefined : `v1.${payload}.${value}`;
  }

  /** Returns the binding, or null for anything forged, tampered, malformed or too old. */
  async verify(value: string | undefined): Promise<Binding | null> {
    const known = this.verifyKnown(value);
    // `verifyKnown` rejects every value it can without the key: here `value` is a well-formed token.
    if (known !== undefined || value === undefined) return known ?? null;
    const [, cid, device, iat, sig] = value.split('.') as [string, string, string, string, string];
    if (!(await hmacVerify(await this.key, `${DOMAIN}|${cid}.${device}.${iat}`, sig))) return null;
    const contactId = Number(cid);
    if (!Number.isSafeInteger(contactId)) return null;
    const binding: Binding = { contactId, deviceId: device, issuedAt: Number(iat) };
    if (!this.fresh(binding)) return null;
    this.verified.set(value, binding);
    return { ...binding };
  }

  /**
   * `verify`'s answer when it needs no HMAC: the binding of a value that verified before (age
   * checked again), null for a value that cannot be valid; undefined when only the HMAC can tell.
   * Lets the relay check a returning visitor's cookie without a promise per hit.
   */
  verifyKnown(value: string | undefined): Binding | null | undefined {
    if (!value || value.length > 256) return null;
    const known = this.verified.get(value);
    if (known) return this.fresh(known) ? { ...known } : null;
    const parts = value.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') return null;
    const [, cid, device, iat] = parts as [string, string, string, string, string];
    if (!/^[1-9]\d{0,15}$/.test(cid) || !/^\d{1,12}$/.test(iat)) return null;
    if (device !== '' && !DEVICE_ID_PATTERN.test(device)) return null;
    return undefined;
  }

  private payloadOf(contactId: number, deviceId: string): string {
    return `${contactId}.${deviceId}.${Math.floor(this.now() / 1000)}`;
  }

  private fresh(binding: Binding): boolean {
    const nowS = Math.floor(this.now() / 1000);
    return binding.issuedAt <= nowS + MAX_CLOCK_SKEW_S && nowS - binding.issuedAt <= this.maxAgeSeconds;
  }
}
