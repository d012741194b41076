import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyRingEntry } from "../config/parse-key-ring.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** TokenCipher encrypts session tokens at rest with AES-256-GCM. */
export interface TokenCipher {
  /** Encrypts a token; `context` (the session id) is bound as associated data. */
  encrypt(token: string, context: string): string;
  /** Decrypts with whichever ring key the ciphertext names. */
  decrypt(sealed: string, context: string): string;
}

/**
 * createTokenCipher returns a cipher over a key ring. The first key encrypts;
 * every key decrypts, so keys rotate by prepending a new one. The format is
 * "v1.<kid>.<iv>.<ciphertext+tag>" (base64url), so the key id travels with
 * the ciphertext.
 */
export function createTokenCipher(ring: readonly KeyRingEntry[]): TokenCipher {
  const active = ring[0];
  if (!active) throw new Error("token cipher needs at least one key");
  const byId = new Map(ring.map((e) => [e.id, e.key]));
  return {
    encrypt(token, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", active.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `v1.${active.id}.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    decrypt(sealed, context) {
      const [version, kid, ivText, bodyText] = sealed.split(".");
      const key = kid === undefined ? undefined : byId.get(kid);
      if (version !== "v1" || !key || !ivText || !bodyText) {
        throw new Error(`token ciphertext names no known key (${version}.${kid})`);
      }
      const body = Buffer.from(bodyText, "base64url");
      const iv = Buffer.from(ivText, "base64url");
      // Only full 16-byte tags: GCM would otherwise accept a truncated tag
      // (down to 4 bytes), which is forgeable by brute force.
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error("token ciphertext is malformed");
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    },
  };
}
