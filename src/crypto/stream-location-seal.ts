import { createHkdfKeystream } from "./hkdf-keystream.js";
import type { LocationSeal } from "./location-seal.js";

const SECRET_BYTES = 32;
const PAD_BYTES = 32;
// Zero bytes every body ends with: a random body opens with odds of 2^-128.
const MIN_PAD_BYTES = 16;
const NEWLINE = 0x0a;

/** The body length for a location of `n` bytes: at least 16 zero bytes, to a multiple of 32. */
const paddedLength = (n: number) => Math.ceil((n + MIN_PAD_BYTES) / PAD_BYTES) * PAD_BYTES;

/**
 * createStreamLocationSeal is the second token format's seal: the location
 * (printable ASCII, one newline), zero-padded to a multiple of 32 bytes with
 * at least 16 zero bytes, XORed with HKDF-SHA-512(ring key, info = label ‖
 * secret). The secret is 32 fresh random bytes per token, so no keystream
 * repeats, and no one but the service and the token's holder (who knows its
 * session anyway) learns the location from it.
 *
 * It encrypts without authenticating: the holder can XOR another location
 * of the same padded length into the body. What makes a token count is the
 * store's check that its HMAC is the one its session holds, made before
 * anything is read out or slid, the same check every token passes; a forged
 * location names a session whose HMAC it does not match. The price is a
 * Redis lookup per well-formed forgery (format 1 refused it locally), for
 * an AES-GCM context per call saved: two hash passes per 64 bytes are cheap
 * on the hot path. The padding still refuses random bodies without a Redis
 * call, and the body has one spelling (the padding is the least that fits).
 */
export function createStreamLocationSeal(ringKey: Buffer, maxLocationBytes: number): LocationSeal {
  const stream = createHkdfKeystream(ringKey, "secure-session-storage/token-locator-v2\n", SECRET_BYTES);
  const maxBodyBytes = paddedLength(maxLocationBytes);

  return {
    fits: (bodyBytes) => bodyBytes >= PAD_BYTES && bodyBytes <= maxBodyBytes && bodyBytes % PAD_BYTES === 0,

    seal(secret, location) {
      if (!/^[\x21-\x7e]+\n[\x21-\x7e]+$/.test(location)) throw new Error("a location is printable ASCII with one newline");
      if (location.length > maxLocationBytes) throw new Error(`a location is at most ${maxLocationBytes} bytes`);
      const body = Buffer.alloc(paddedLength(location.length));
      body.write(location, "latin1");
      stream.xor(secret, body, body.length);
      return body;
    },

    open(secret, body, bodyBytes) {
      stream.xor(secret, body, bodyBytes);
      let end = bodyBytes;
      while (end > 0 && body[end - 1] === 0) end--;
      if (paddedLength(end) !== bodyBytes) return undefined;
      let newlines = 0;
      for (let i = 0; i < end; i++) {
        const b = body[i]!;
        if (b === NEWLINE) newlines++;
        else if (b < 0x21 || b > 0x7e) return undefined;
      }
      return newlines === 1 ? body.toString("latin1", 0, end) : undefined;
    },
  };
}
