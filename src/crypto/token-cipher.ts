import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyRingEntry } from "../config/parse-key-ring.js";

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
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", active.key, iv);
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
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ivText, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
    },
  };
}
