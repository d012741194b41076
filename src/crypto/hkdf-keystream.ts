import { createHmac, hash } from "node:crypto";

const HASH = "sha512";
const HASH_BYTES = 64;
const BLOCK_BYTES = 128; // SHA-512's block
const MAX_BYTES = 255 * HASH_BYTES; // RFC 5869's limit for one expansion

/** HkdfKeystream is HKDF-SHA-512 under one key and label, used as a keystream. */
export interface HkdfKeystream {
  /**
   * XORs the first `length` bytes of HKDF-SHA-512(key, salt = none,
   * info = label ‖ nonce) into `target`. The nonce must have the length
   * the keystream was made for.
   */
  xor(nonce: Uint8Array, target: Uint8Array, length: number): void;
}

/**
 * createHkdfKeystream returns HKDF (RFC 5869) with SHA-512 as a stream
 * cipher's keystream: a fresh random nonce per use makes every stream
 * unique. The extract step, which depends on the key alone, runs once; each
 * expansion block is an HMAC computed as two one-shot `hash()` passes over
 * the key's precomputed pads (the same bytes as `hkdfSync`, which a test
 * holds equal), because an HMAC or cipher object per call costs several
 * times more on the token hot path.
 */
export function createHkdfKeystream(key: Uint8Array, label: string, nonceBytes: number): HkdfKeystream {
  // Extract: PRK = HMAC(salt, key), an absent salt being HashLen zero bytes.
  const prk = createHmac(HASH, Buffer.alloc(HASH_BYTES)).update(key).digest();
  const info = Buffer.from(label);
  // T(1) = HMAC(PRK, info ‖ 0x01); T(n) = HMAC(PRK, T(n-1) ‖ info ‖ n).
  // Inner inputs: ipad-block ‖ [T(n-1)] ‖ label ‖ nonce ‖ n, pads and label written once.
  const first = Buffer.alloc(BLOCK_BYTES + info.length + nonceBytes + 1);
  const next = Buffer.alloc(BLOCK_BYTES + HASH_BYTES + info.length + nonceBytes + 1);
  const outer = Buffer.alloc(BLOCK_BYTES + HASH_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    const k = prk[i] ?? 0;
    first[i] = next[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  prk.fill(0);
  info.copy(first, BLOCK_BYTES);
  info.copy(next, BLOCK_BYTES + HASH_BYTES);
  const nonceAt = BLOCK_BYTES + info.length;
  const block = Buffer.alloc(HASH_BYTES);

  return {
    xor(nonce, target, length) {
      if (nonce.length !== nonceBytes) throw new Error(`keystream nonce must be ${nonceBytes} bytes`);
      if (length > MAX_BYTES || length > target.length) throw new Error("keystream longer than its target or HKDF allows");
      first.set(nonce, nonceAt);
      if (length > HASH_BYTES) next.set(nonce, nonceAt + HASH_BYTES);
      try {
        for (let n = 1, at = 0; at < length; n++, at += HASH_BYTES) {
          let input = first;
          if (n > 1) {
            input = next;
            block.copy(next, BLOCK_BYTES);
          }
          input[input.length - 1] = n;
          // Hex out and back in: a string result costs less than a new Buffer per pass.
          outer.write(hash(HASH, input, "hex"), BLOCK_BYTES, "hex");
          block.write(hash(HASH, outer, "hex"), 0, "hex");
          const end = Math.min(HASH_BYTES, length - at);
          for (let i = 0; i < end; i++) target[at + i]! ^= block[i]!;
        }
      } finally {
        // The nonce is a token's secret: it does not outlive the call.
        first.fill(0, nonceAt, nonceAt + nonceBytes);
        if (length > HASH_BYTES) {
          next.fill(0, nonceAt + HASH_BYTES, nonceAt + HASH_BYTES + nonceBytes);
          next.fill(0, BLOCK_BYTES, BLOCK_BYTES + HASH_BYTES);
        }
        block.fill(0);
      }
    },
  };
}
