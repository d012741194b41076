import { createHmac, createSecretKey, hash, hkdfSync } from "node:crypto";

/** KeyedHash is HMAC-SHA-256 under one purpose-bound key. */
export interface KeyedHash {
  /** The base64url HMAC of the input (truncated, when made so). */
  digest(input: string): string;
}

const BLOCK_BYTES = 64; // SHA-256's block
const DIGEST_BYTES = 32;
// Inputs up to this many UTF-8 bytes take the one-shot path (every token does).
const SCRATCH_BYTES = 16 * 1024;

/**
 * createKeyedHash derives a key for one purpose (HKDF) from the master HMAC
 * key, so token lookups and page-token signatures never share a key. A
 * digest may be truncated to `outputBytes` (at least 16: 128 bits stay
 * collision-free at any session count), e.g. to keep Redis keys short.
 *
 * It is on every token validation, so it computes HMAC (RFC 2104) as its two
 * SHA-256 passes over the key's precomputed pads with Node's one-shot
 * `hash()`: the same bytes as `createHmac` (a test holds them equal), for
 * about half the CPU, because no Hmac object and no key schedule are made
 * per call. Inputs too long for the scratch buffer take `createHmac`.
 */
export function createKeyedHash(masterKey: Buffer, purpose: string, outputBytes = 32): KeyedHash {
  if (outputBytes < 16 || outputBytes > DIGEST_BYTES) throw new Error("a keyed hash keeps 16 to 32 bytes");
  const keyBytes = Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `secure-session-storage/${purpose}`, DIGEST_BYTES));
  const key = createSecretKey(keyBytes);
  // inner = ipad-block ‖ message, outer = opad-block ‖ SHA-256(inner); the pads are written once.
  const inner = Buffer.alloc(BLOCK_BYTES + SCRATCH_BYTES);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    inner[i] = (keyBytes[i] ?? 0) ^ 0x36;
    outer[i] = (keyBytes[i] ?? 0) ^ 0x5c;
  }
  const digest = Buffer.alloc(DIGEST_BYTES);
  keyBytes.fill(0);

  return {
    digest(input) {
      // A UTF-16 code unit is at most 3 UTF-8 bytes.
      if (input.length * 3 > SCRATCH_BYTES) {
        return createHmac("sha256", key).update(input).digest().subarray(0, outputBytes).toString("base64url");
      }
      const length = inner.write(input, BLOCK_BYTES, "utf8");
      // Hex out and back in: a string result costs less than a new Buffer per pass.
      outer.write(hash("sha256", inner.subarray(0, BLOCK_BYTES + length), "hex"), BLOCK_BYTES, "hex");
      digest.write(hash("sha256", outer, "hex"), 0, "hex");
      return digest.toString("base64url", 0, outputBytes);
    },
  };
}
