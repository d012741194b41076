import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from "node:crypto";
import type { KeyRingEntry } from "../config/parse-key-ring.js";

const SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The location is padded to a multiple of this, so a token's length says little about it.
const PAD_BYTES = 32;
// RFC 3394 key wrap: its fixed initial value is the integrity check.
const WRAP_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex");
const WRAPPED_BYTES = SECRET_BYTES + 8;
// A minted secret's base64url length: 32 bytes are 43 characters.
const SECRET_CHARS = 43;
// Bodies up to this many bytes decode into a reused buffer (longer ones get their own).
const BODY_SCRATCH_BYTES = 1024;
const DECIPHER_OPTIONS = { authTagLength: TAG_BYTES };

/** SessionLocation names one session: where a minted token points. */
export interface SessionLocation {
  readonly tenantId: string;
  readonly sessionId: string;
}

/** TokenLocator mints tokens that carry their session's location, encrypted. */
export interface TokenLocator {
  /** Mints a token for a session, and its secret sealed for storage ("<kid>.<wrapped secret>"). */
  mint(at: SessionLocation): { token: string; sealed: string };
  /** The session a minted token names; undefined for anything this ring did not mint. */
  locate(token: string): SessionLocation | undefined;
  /** Rebuilds a minted token from its sealed secret; throws when it does not unseal for this session. */
  reveal(sealed: string, at: SessionLocation): string;
}

/**
 * createTokenLocator returns a locator over the token encryption key ring.
 *
 * A minted token is "<base64url secret>.<kid>.<base64url ciphertext+tag>":
 * 32 CSPRNG bytes, then AES-256-GCM of "tenant\nsession id" (zero-padded to
 * a multiple of 32 bytes) under a key derived (HKDF, "token-locator") from
 * ring key <kid>, with the first 12 secret bytes as IV and secret+kid as
 * associated data. A fresh secret per token keeps IVs from repeating, and
 * the same secret always rebuilds the same token.
 *
 * The secret is stored sealed with AES key wrap (RFC 3394, NIST SP 800-38F
 * KW) under a key derived per session (HKDF of ring key <kid>, bound to the
 * tenant and session id): deterministic, authenticated, and 40 bytes, so the
 * sealed value ("<kid>.<54 base64url>") fits one compact Redis hash value
 * where AES-GCM's IV and tag would not. The first key mints; every key
 * decodes, so keys rotate by prepending.
 */
export function createTokenLocator(ring: readonly KeyRingEntry[]): TokenLocator {
  const active = ring[0];
  if (!active) throw new Error("token locator needs at least one key");
  const derive = (key: Buffer, info: string) => Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), info, 32));
  const ringKeys = new Map(ring.map((e) => [e.id, e.key]));
  // Key objects, made once: a cipher then need not import raw key bytes per call.
  const locatorKeys = new Map<string, KeyObject>(ring.map((e) => [e.id, createSecretKey(derive(e.key, "secure-session-storage/token-locator"))]));
  // locate's scratch, per kid: the associated data (secret ‖ kid) with the kid
  // written once, so a call decodes the secret straight into it and the IV is
  // a fixed view of its first 12 bytes. Bodies decode into one shared buffer.
  // locate is synchronous, so no two calls share them at once.
  const locateKeys = new Map(
    ring.map((e) => {
      const kid = Buffer.from(e.id);
      const aad = Buffer.alloc(SECRET_BYTES + kid.length);
      kid.copy(aad, SECRET_BYTES);
      return [e.id, { key: locatorKeys.get(e.id)!, aad, iv: aad.subarray(0, IV_BYTES) }] as const;
    }),
  );
  const bodyScratch = Buffer.alloc(BODY_SCRATCH_BYTES);
  const sealingKey = (kid: string, at: SessionLocation) => {
    const key = ringKeys.get(kid);
    if (!key) throw new Error(`sealed token secret names no known key (${kid})`);
    return derive(key, `secure-session-storage/token-secret\n${at.tenantId}\n${at.sessionId}`);
  };

  function build(secret: Buffer, kid: string, at: SessionLocation): string {
    const key = locatorKeys.get(kid);
    if (!key) throw new Error(`minted token names no known key (${kid})`);
    const plain = Buffer.from(`${at.tenantId}\n${at.sessionId}`, "utf8");
    const padded = Buffer.alloc(Math.ceil(plain.length / PAD_BYTES) * PAD_BYTES);
    plain.copy(padded);
    const cipher = createCipheriv("aes-256-gcm", key, secret.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.concat([secret, Buffer.from(kid)]));
    const body = Buffer.concat([cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
    return `${secret.toString("base64url")}.${kid}.${body.toString("base64url")}`;
  }

  return {
    mint(at) {
      const secret = randomBytes(SECRET_BYTES);
      const wrap = createCipheriv("id-aes256-wrap", sealingKey(active.id, at), WRAP_IV);
      const wrapped = Buffer.concat([wrap.update(secret), wrap.final()]);
      return { token: build(secret, active.id, at), sealed: `${active.id}.${wrapped.toString("base64url")}` };
    },

    locate(token) {
      const first = token.indexOf(".");
      const second = token.indexOf(".", first + 1);
      if (first < 0 || second < 0 || token.indexOf(".", second + 1) >= 0) return undefined;
      const entry = locateKeys.get(token.slice(first + 1, second));
      if (!entry) return undefined;
      // Lengths first (from the text alone), then strict base64url: the same
      // tokens pass as when the parts were decoded and then measured.
      if (first !== SECRET_CHARS) return undefined;
      const bodyChars = token.length - second - 1;
      const bodyBytes = base64urlBytes(bodyChars);
      if (bodyBytes < TAG_BYTES + PAD_BYTES || (bodyBytes - TAG_BYTES) % PAD_BYTES !== 0) return undefined;
      const secretText = token.slice(0, first);
      const bodyText = token.slice(second + 1);
      if (!isStrictBase64url(secretText) || !isStrictBase64url(bodyText)) return undefined;
      entry.aad.write(secretText, 0, SECRET_BYTES, "base64url");
      let body = bodyScratch;
      if (bodyBytes <= bodyScratch.length) bodyScratch.write(bodyText, 0, bodyBytes, "base64url");
      else body = Buffer.from(bodyText, "base64url");
      try {
        const decipher = createDecipheriv("aes-256-gcm", entry.key, entry.iv, DECIPHER_OPTIONS);
        decipher.setAAD(entry.aad);
        decipher.setAuthTag(body.subarray(bodyBytes - TAG_BYTES, bodyBytes));
        const padded = decipher.update(body.subarray(0, bodyBytes - TAG_BYTES));
        // final() checks the tag (it throws when it does not verify); GCM adds no bytes there.
        decipher.final();
        let end = padded.length;
        while (end > 0 && padded[end - 1] === 0) end--;
        const plain = padded.toString("utf8", 0, end);
        const newline = plain.indexOf("\n");
        if (newline < 1 || newline === plain.length - 1) return undefined;
        return { tenantId: plain.slice(0, newline), sessionId: plain.slice(newline + 1) };
      } catch {
        return undefined; // GCM did not verify: not a token this ring minted
      } finally {
        // The secret is what makes the token a credential: it does not outlive the call.
        entry.aad.fill(0, 0, SECRET_BYTES);
      }
    },

    reveal(sealed, at) {
      const dot = sealed.lastIndexOf(".");
      const kid = sealed.slice(0, dot);
      const wrapped = dot < 1 ? undefined : strictBase64url(sealed.slice(dot + 1));
      if (wrapped?.length !== WRAPPED_BYTES) throw new Error("sealed token secret is malformed");
      // Throws when the integrity check fails: tampered, or another session's.
      const unwrap = createDecipheriv("id-aes256-wrap", sealingKey(kid, at), WRAP_IV);
      return build(Buffer.concat([unwrap.update(wrapped), unwrap.final()]), kid, at);
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
