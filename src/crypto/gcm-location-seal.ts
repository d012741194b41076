import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from "node:crypto";
import type { LocationSeal } from "./location-seal.js";

const SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The location is padded to a multiple of this, so a token's length says little about it.
const PAD_BYTES = 32;
const DECIPHER_OPTIONS = { authTagLength: TAG_BYTES };

/**
 * createGcmLocationSeal is the first token format's seal: AES-256-GCM of the
 * location (zero-padded to a multiple of 32 bytes) under a key derived
 * (HKDF-SHA-256, "token-locator") from ring key `kid`, with the first 12
 * secret bytes as IV and secret ‖ kid as associated data. Its bodies are
 * 16 bytes (the tag) over a multiple of 32.
 */
export function createGcmLocationSeal(ringKey: Buffer, kid: string, maxLocationBytes: number): LocationSeal {
  const maxBodyBytes = Math.ceil(maxLocationBytes / PAD_BYTES) * PAD_BYTES + TAG_BYTES;
  // A key object, made once: a cipher then need not import raw key bytes per call.
  const key = createSecretKey(Buffer.from(hkdfSync("sha256", ringKey, Buffer.alloc(0), "secure-session-storage/token-locator", 32)));
  // The associated data (secret ‖ kid) with the kid written once; the IV is a fixed view of it.
  const kidBytes = Buffer.from(kid);
  const aad = Buffer.alloc(SECRET_BYTES + kidBytes.length);
  kidBytes.copy(aad, SECRET_BYTES);
  const iv = aad.subarray(0, IV_BYTES);

  return {
    fits: (bodyBytes) => bodyBytes >= TAG_BYTES + PAD_BYTES && bodyBytes <= maxBodyBytes && (bodyBytes - TAG_BYTES) % PAD_BYTES === 0,

    seal(secret, location) {
      const plain = Buffer.from(location, "utf8");
      if (plain.length > maxLocationBytes) throw new Error(`a location is at most ${maxLocationBytes} bytes`);
      const padded = Buffer.alloc(Math.ceil(plain.length / PAD_BYTES) * PAD_BYTES);
      plain.copy(padded);
      const cipher = createCipheriv("aes-256-gcm", key, secret.subarray(0, IV_BYTES), DECIPHER_OPTIONS);
      cipher.setAAD(Buffer.concat([secret, kidBytes]));
      return Buffer.concat([cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
    },

    open(secret, body, bodyBytes) {
      secret.copy(aad, 0, 0, SECRET_BYTES);
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, iv, DECIPHER_OPTIONS);
        decipher.setAAD(aad);
        decipher.setAuthTag(body.subarray(bodyBytes - TAG_BYTES, bodyBytes));
        const padded = decipher.update(body.subarray(0, bodyBytes - TAG_BYTES));
        // final() checks the tag (it throws when it does not verify); GCM adds no bytes there.
        decipher.final();
        let end = padded.length;
        while (end > 0 && padded[end - 1] === 0) end--;
        return padded.toString("utf8", 0, end);
      } catch {
        return undefined; // GCM did not verify: not a token this key sealed
      } finally {
        // The secret is what makes the token a credential: it does not outlive the call.
        aad.fill(0, 0, SECRET_BYTES);
      }
    },
  };
}
