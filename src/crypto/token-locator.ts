import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { KeyRingEntry } from "../config/parse-key-ring.js";
import { createGcmLocationSeal } from "./gcm-location-seal.js";
import type { LocationSeal } from "./location-seal.js";
import { createStreamLocationSeal } from "./stream-location-seal.js";

const SECRET_BYTES = 32;
// RFC 3394 key wrap: its fixed initial value is the integrity check.
const WRAP_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex");
const WRAPPED_BYTES = SECRET_BYTES + 8;
// A minted secret's base64url length: 32 bytes are 43 characters.
const SECRET_CHARS = 43;
// The longest location a session can have: tenant id (64), newline, user id
// (128) and ".<8 hex>.<8 hex>" (limits.ts). Longer bodies are refused before any
// decoding, so a forged token costs no more than a real one.
const MAX_LOCATION_BYTES = 64 + 1 + 128 + 18;
// Every body that fits either format decodes into this reused buffer (format 2's longest is 256).
const BODY_SCRATCH_BYTES = Math.ceil((MAX_LOCATION_BYTES + 16) / 32) * 32;
// The sealed secret's separator names the token's format: "<kid>.<…>" format 1, "<kid>:<…>" format 2.
const sealedPattern = /^([A-Za-z0-9_-]+)([.:])([A-Za-z0-9_-]+)$/;

/** TokenFormat is how a minted token seals its location: 1 AES-256-GCM, 2 an HKDF keystream. */
export type TokenFormat = 1 | 2;

/** SessionLocation names one session: where a minted token points. */
export interface SessionLocation {
  readonly tenantId: string;
  readonly sessionId: string;
}

/** TokenLocator mints tokens that carry their session's location, encrypted. */
export interface TokenLocator {
  /** Mints a token for a session, and its secret sealed for storage ("<kid>.<wrapped secret>" or "<kid>:…"). */
  mint(at: SessionLocation): { token: string; sealed: string };
  /** The session a minted token names; undefined for anything this ring did not mint. */
  locate(token: string): SessionLocation | undefined;
  /** Rebuilds a minted token from its sealed secret; throws when it does not unseal for this session. */
  reveal(sealed: string, at: SessionLocation): string;
}

/**
 * createTokenLocator returns a locator over the token encryption key ring.
 *
 * A minted token is "<base64url secret>.<kid>.<base64url body>": 32 CSPRNG
 * bytes, then the session's location (at most 211 bytes) sealed under ring
 * key <kid> and the secret, by format 1 (gcm-location-seal.ts) or 2
 * (stream-location-seal.ts).
 * Both are always read, whatever `mintFormat` says; their bodies' lengths
 * never coincide. A fresh secret per token keeps IVs and keystreams from
 * repeating, and the same secret always rebuilds the same token.
 *
 * The secret is stored sealed with AES key wrap (RFC 3394, NIST SP 800-38F
 * KW) under a key derived per session (HKDF of ring key <kid>, bound to the
 * tenant and session id): deterministic, authenticated, and 40 bytes, so the
 * sealed value ("<kid>.<54 base64url>", ":" for format 2) fits one compact
 * Redis hash value where AES-GCM's IV and tag would not. The first key
 * mints; every key decodes, so keys rotate by prepending.
 */
export function createTokenLocator(ring: readonly KeyRingEntry[], mintFormat: TokenFormat = 1): TokenLocator {
  const active = ring[0];
  if (!active) throw new Error("token locator needs at least one key");
  const ringKeys = new Map(ring.map((e) => [e.id, e.key]));
  // Each kid's seals, made once: index 0 is format 1, index 1 format 2.
  const seals = new Map<string, readonly [LocationSeal, LocationSeal]>(
    ring.map((e) => [e.id, [createGcmLocationSeal(e.key, e.id, MAX_LOCATION_BYTES), createStreamLocationSeal(e.key, MAX_LOCATION_BYTES)]]),
  );
  // locate's scratch: it is synchronous, so no two calls share these at once.
  const secretScratch = Buffer.alloc(SECRET_BYTES);
  const bodyScratch = Buffer.alloc(BODY_SCRATCH_BYTES);
  // Format 2's key differs from format 1's, so a sealed secret whose separator
  // was changed does not unwrap (rather than rebuilding the other format's token).
  const sealingKey = (kid: string, format: TokenFormat, at: SessionLocation) => {
    const key = ringKeys.get(kid);
    if (!key) throw new Error(`sealed token secret names no known key (${kid})`);
    const purpose = format === 2 ? "token-secret-v2" : "token-secret";
    return Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), `secure-session-storage/${purpose}\n${at.tenantId}\n${at.sessionId}`, 32));
  };

  function build(secret: Buffer, kid: string, format: TokenFormat, at: SessionLocation): string {
    const seal = seals.get(kid)?.[format - 1];
    if (!seal) throw new Error(`minted token names no known key (${kid})`);
    const body = seal.seal(secret, `${at.tenantId}\n${at.sessionId}`);
    return `${secret.toString("base64url")}.${kid}.${body.toString("base64url")}`;
  }

  return {
    mint(at) {
      const secret = randomBytes(SECRET_BYTES);
      const wrap = createCipheriv("id-aes256-wrap", sealingKey(active.id, mintFormat, at), WRAP_IV);
      const wrapped = Buffer.concat([wrap.update(secret), wrap.final()]);
      const separator = mintFormat === 2 ? ":" : ".";
      return { token: build(secret, active.id, mintFormat, at), sealed: `${active.id}${separator}${wrapped.toString("base64url")}` };
    },

    locate(token) {
      const first = token.indexOf(".");
      const second = token.indexOf(".", first + 1);
      if (first < 0 || second < 0 || token.indexOf(".", second + 1) >= 0) return undefined;
      const kidSeals = seals.get(token.slice(first + 1, second));
      if (!kidSeals) return undefined;
      // Lengths first (from the text alone), then strict base64url: the same
      // tokens pass as when the parts were decoded and then measured.
      if (first !== SECRET_CHARS) return undefined;
      const bodyChars = token.length - second - 1;
      const bodyBytes = base64urlBytes(bodyChars);
      const seal = kidSeals[1].fits(bodyBytes) ? kidSeals[1] : kidSeals[0].fits(bodyBytes) ? kidSeals[0] : undefined;
      if (!seal) return undefined;
      const secretText = token.slice(0, first);
      const bodyText = token.slice(second + 1);
      if (!isStrictBase64url(secretText) || !isStrictBase64url(bodyText)) return undefined;
      bodyScratch.write(bodyText, 0, bodyBytes, "base64url");
      secretScratch.write(secretText, 0, SECRET_BYTES, "base64url");
      let plain;
      try {
        plain = seal.open(secretScratch, bodyScratch, bodyBytes);
      } finally {
        // The secret is what makes the token a credential: it does not outlive the call.
        secretScratch.fill(0);
      }
      if (plain === undefined) return undefined;
      const newline = plain.indexOf("\n");
      if (newline < 1 || newline === plain.length - 1) return undefined;
      return { tenantId: plain.slice(0, newline), sessionId: plain.slice(newline + 1) };
    },

    reveal(sealed, at) {
      const parts = sealedPattern.exec(sealed);
      const wrapped = parts ? strictBase64url(parts[3]!) : undefined;
      if (!parts || wrapped?.length !== WRAPPED_BYTES) throw new Error("sealed token secret is malformed");
      const kid = parts[1]!;
      const format = parts[2] === ":" ? 2 : 1;
      // Throws when the integrity check fails: tampered, or another session's.
      const unwrap = createDecipheriv("id-aes256-wrap", sealingKey(kid, format, at), WRAP_IV);
      return build(Buffer.concat([unwrap.update(wrapped), unwrap.final()]), kid, format, at);
    },
  };
}

const base64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const base64urlText = /^[A-Za-z0-9_-]+$/;

// Strict base64url, so one token has one spelling: only the alphabet (Buffer.from
// skips other characters), no padding, no impossible length, and the bits the
// last character carries beyond the bytes all zero. These are exactly the
// texts that decoding and encoding again give back, checked without a second
// conversion on the hot path.
function strictBase64url(text: string): Buffer | undefined {
  return isStrictBase64url(text) ? Buffer.from(text, "base64url") : undefined;
}

function isStrictBase64url(text: string): boolean {
  const tail = text.length % 4;
  if (tail === 1 || !base64urlText.test(text)) return false;
  // 2 characters left over carry 1 byte (4 spare bits), 3 carry 2 bytes (2 spare bits).
  return tail === 0 || (base64urlAlphabet.indexOf(text[text.length - 1]!) & (tail === 2 ? 0b1111 : 0b11)) === 0;
}

/** The bytes a base64url text of this length decodes to; -1 for a length no byte count has. */
function base64urlBytes(chars: number): number {
  const tail = chars % 4;
  return tail === 1 ? -1 : ((chars - tail) / 4) * 3 + (tail === 0 ? 0 : tail - 1);
}
