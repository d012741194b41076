import { createHmac, hkdfSync } from "node:crypto";

/** KeyedHash is HMAC-SHA-256 under one purpose-bound key. */
export interface KeyedHash {
  /** The base64url HMAC of the input. */
  digest(input: string): string;
}

/**
 * createKeyedHash derives a key for one purpose (HKDF) from the master HMAC
 * key, so token lookups and page-token signatures never share a key.
 */
export function createKeyedHash(masterKey: Buffer, purpose: string): KeyedHash {
  const key = Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `secure-session-storage/${purpose}`, 32));
  return {
    digest: (input) => createHmac("sha256", key).update(input).digest("base64url"),
  };
}
