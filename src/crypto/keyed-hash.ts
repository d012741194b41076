import { createHmac, createSecretKey, hkdfSync } from "node:crypto";

/** KeyedHash is HMAC-SHA-256 under one purpose-bound key. */
export interface KeyedHash {
  /** The base64url HMAC of the input (truncated, when made so). */
  digest(input: string): string;
}

/**
 * createKeyedHash derives a key for one purpose (HKDF) from the master HMAC
 * key, so token lookups and page-token signatures never share a key. A
 * digest may be truncated to `outputBytes` (at least 16: 128 bits stay
 * collision-free at any session count), e.g. to keep Redis keys short.
 */
export function createKeyedHash(masterKey: Buffer, purpose: string, outputBytes = 32): KeyedHash {
  if (outputBytes < 16 || outputBytes > 32) throw new Error("a keyed hash keeps 16 to 32 bytes");
  // A key object, made once: each HMAC then need not import the key bytes.
  const key = createSecretKey(Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `secure-session-storage/${purpose}`, 32)));
  return {
    digest: (input) => createHmac("sha256", key).update(input).digest().subarray(0, outputBytes).toString("base64url"),
  };
}
