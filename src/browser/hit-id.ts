/**
 * A send's id: 32 hex characters from `crypto.getRandomValues` (128 bits), within the wire
 * contract's `mt_hit_id` pattern (16–64 of `[0-9a-z]`). Also names the send's storage key.
 */
export const newHitId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let id = '';
  for (const byte of bytes) id += (byte | 256).toString(16).slice(1);
  return id;
};
