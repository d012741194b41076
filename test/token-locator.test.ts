// Minted tokens carry their session's location, sealed: what decodes, what
// does not, and how the stored secret rebuilds the token. No Redis needed.
// Format 1 seals with AES-256-GCM, format 2 with an HKDF-SHA-512 keystream;
// every locator reads both, whichever it mints.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createHkdfKeystream } from "../src/crypto/hkdf-keystream.js";
import { createTokenLocator, type TokenFormat } from "../src/crypto/token-locator.js";

const k1 = { id: "k1", key: randomBytes(32) };
const k2 = { id: "k2", key: randomBytes(32) };
const at = { tenantId: "tenant-a", sessionId: "user@example.com.0123abcd.4567ef01" };
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const v2Label = "secure-session-storage/token-locator-v2\n";

/** The token with one byte of one base64url part flipped, re-encoded. */
function flip(token: string, part: number, byte: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part]!, "base64url");
  bytes[byte]! ^= 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

/** A seeded generator of bytes, texts and choices, so a failure replays. */
function randomSource(start: number) {
  let seed = start;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rand(256)));
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  return { rand, bytes, pick };
}

const strict = (t: string) => {
  const b = Buffer.from(t, "base64url");
  return t.length > 0 && b.toString("base64url") === t ? b : undefined;
};

/** Format 2 by its definition: the body XOR HKDF-SHA-512(ring key, info = label ‖ secret), with hkdfSync. */
function v2Keystream(ringKey: Buffer, secret: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync("sha512", ringKey, Buffer.alloc(0), Buffer.concat([Buffer.from(v2Label), secret]), length));
}
function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((x, i) => x ^ b[i]!));
}

describe.each([1, 2] as const)("token locator minting format %i", (format: TokenFormat) => {
  const locator = createTokenLocator([k1], format);
  const separator = format === 2 ? ":" : ".";

  it("a minted token is <43 base64url secret>.<kid>.<sealed location>, names its session, and is unique", () => {
    const { token } = locator.mint(at);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}\.k1\.[A-Za-z0-9_-]+$/);
    expect(locator.locate(token)).toEqual(at);
    expect(locator.mint(at).token).not.toBe(token);
  });

  it("a token has one spelling: another text of the same bytes is not a minted token", () => {
    const { token } = locator.mint(at);
    const [secret, kid, body] = token.split(".") as [string, string, string];
    // 43 characters carry 32 bytes and 2 spare bits: set one, and the bytes decode the same.
    const last = alphabet.indexOf(secret.at(-1)!);
    const spare = `${secret.slice(0, -1)}${alphabet[last ^ 0b01]}`;
    expect(Buffer.from(spare, "base64url")).toEqual(Buffer.from(secret, "base64url"));
    const variants = [
      `${spare}.${kid}.${body}`,
      `${secret}=.${kid}.${body}`, // padded
      `${secret}.${kid}.${body.slice(0, 10)}+${body.slice(10)}`, // a character Buffer.from would skip
      `${secret}.${kid}.${body}A`, // a length no byte count has
      `.${kid}.${body}`,
    ];
    for (const variant of variants) expect(locator.locate(variant), variant).toBeUndefined();
    expect(locator.locate(token)).toEqual(at);
  });

  it("the location is padded to 32 bytes, so its length shows only a coarse size", () => {
    const lengths = ["u.0123abcd.4567ef01", `${"u".repeat(10)}.0123abcd.4567ef01`].map(
      (sessionId) => locator.mint({ tenantId: "t", sessionId }).token.length,
    );
    expect(lengths[0]).toBe(lengths[1]);
  });

  it("a changed secret, kid, padding or length makes it not a minted token", () => {
    const { token } = locator.mint(at);
    const bodyBytes = Buffer.from(token.split(".")[2]!, "base64url").length;
    expect(locator.locate(flip(token, 0, 0))).toBeUndefined(); // the secret (format 1: also the IV)
    expect(locator.locate(flip(token, 0, 31))).toBeUndefined(); // the secret's last byte
    expect(locator.locate(flip(token, 2, bodyBytes - 1))).toBeUndefined(); // the tag, or the padding
    expect(locator.locate(token.replace(".k1.", ".k2."))).toBeUndefined();
    expect(locator.locate(`${token}.x`)).toBeUndefined();
    expect(locator.locate(token.slice(0, -2))).toBeUndefined();
  });

  it("tokens of another key ring, and arbitrary tokens, are not minted tokens", () => {
    const other = createTokenLocator([{ id: "k1", key: randomBytes(32) }], format);
    expect(locator.locate(other.mint(at).token)).toBeUndefined();
    expect(locator.locate(randomBytes(32).toString("base64url"))).toBeUndefined();
    expect(locator.locate(`eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}.sig`)).toBeUndefined();
    expect(locator.locate("a.k1.b")).toBeUndefined();
    for (const bytes of [32, 48, 64, 80, 96]) {
      expect(locator.locate(`${randomBytes(32).toString("base64url")}.k1.${randomBytes(bytes).toString("base64url")}`)).toBeUndefined();
    }
  });

  it("after a rotation (k2 prepended) old tokens still decode and reveal; new ones are minted under k2", () => {
    const old = locator.mint(at);
    const rotated = createTokenLocator([k2, k1], format);
    expect(rotated.locate(old.token)).toEqual(at);
    expect(rotated.reveal(old.sealed, at)).toBe(old.token);
    const fresh = rotated.mint(at);
    expect(fresh.token.split(".")[1]).toBe("k2");
    expect(fresh.sealed.startsWith(`k2${separator}`)).toBe(true);
    // A ring without k2 does not know it.
    expect(locator.locate(fresh.token)).toBeUndefined();
    expect(() => locator.reveal(fresh.sealed, at)).toThrow();
  });

  it("the sealed secret rebuilds the same token, only for its own session, and never when tampered", () => {
    const { token, sealed } = locator.mint(at);
    expect(sealed).toMatch(new RegExp(`^k1\\${separator}[A-Za-z0-9_-]{54}$`));
    expect(sealed.length).toBeLessThanOrEqual(64); // one compact Redis hash value
    expect(sealed).not.toContain(token.split(".")[0]);
    expect(locator.reveal(sealed, at)).toBe(token);
    expect(() => locator.reveal(sealed, { ...at, sessionId: "user@example.com.0123abcd.4567ef02" })).toThrow();
    expect(() => locator.reveal(sealed, { ...at, tenantId: "tenant-b" })).toThrow();
    const bytes = Buffer.from(sealed.slice(3), "base64url");
    bytes[10]! ^= 0x01;
    expect(() => locator.reveal(`k1${separator}${bytes.toString("base64url")}`, at)).toThrow();
    expect(() => locator.reveal(sealed.slice(0, -1), at)).toThrow();
    expect(() => locator.reveal(`k1;${sealed.slice(3)}`, at)).toThrow();
  });

  it("reads and reveals tokens of the other format: a store holds both while an upgrade rolls out", () => {
    const other = createTokenLocator([k1], format === 2 ? 1 : 2);
    const theirs = other.mint(at);
    expect(locator.locate(theirs.token)).toEqual(at);
    expect(locator.reveal(theirs.sealed, at)).toBe(theirs.token);
    const ours = locator.mint(at);
    expect(other.locate(ours.token)).toEqual(at);
    expect(other.reveal(ours.sealed, at)).toBe(ours.token);
    // A sealed secret whose separator (its format) was changed does not unwrap: each format has its own key.
    const swapped = ours.sealed.startsWith("k1:") ? `k1.${ours.sealed.slice(3)}` : `k1:${ours.sealed.slice(3)}`;
    expect(() => locator.reveal(swapped, at)).toThrow();
    expect(() => other.reveal(swapped, at)).toThrow();
  });

  it("the longest locations (a 64-character tenant id, a 128-character user id) mint and decode, between short ones", () => {
    const long = { tenantId: "t".repeat(64), sessionId: `${"u".repeat(128)}.0123abcd.4567ef01` };
    const a = locator.mint(long).token;
    const b = locator.mint(at).token;
    expect(Buffer.from(a.split(".")[2]!, "base64url").length).toBe(format === 2 ? 256 : 240);
    expect(locator.locate(b)).toEqual(at);
    expect(locator.locate(a)).toEqual(long);
    expect(locator.locate(b)).toEqual(at);
    // One byte more is no session's location: not minted, and a body that long is refused unread.
    expect(() => locator.mint({ ...long, tenantId: "t".repeat(65) })).toThrow();
    const [secret, kid] = a.split(".");
    for (const bytes of format === 2 ? [288, 320, 4096] : [272, 304, 4080]) {
      expect(locator.locate(`${secret}.${kid}.${randomBytes(bytes).toString("base64url")}`)).toBeUndefined();
    }
  });
});

describe("tokens of a fixed key, secret and location", () => {
  // Minted once (format 1 by the release before format 2 existed) and frozen here, so
  // stored sessions keep validating and revealing across releases.
  const ring = [{ id: "k1", key: Buffer.from("Ai7GJ5lX3lVYbCwmVxX6uXWq9lVdR1y0Zx8ZpXc0Q2E=", "base64") }];
  const location = { tenantId: "acme", sessionId: "user@example.com.0123abcd.4567ef01" };
  const vectors = [
    {
      format: 1,
      token: "TleVgIVXG9rO-0ImFrG3F7lOcbgTHTQAejoCv7aU49c.k1.N2xHhfSaO9uRck0veybMr3lSQPxK7HmHyHUK3A15ehsiUCgROEvrSX0LGR2deGa1nAqRa5XpsafTHtkYcLAhzgXaPlXV4geZgBcXLR1u9WE",
      sealed: "k1.GaZhg3_3te8ToTA2maWKTdTjQE_SMDc5Fc4GMp6egC2yC_4x7_NLiw",
    },
    {
      format: 2,
      token: "JBG-xLKdF6BNvHCxC9032dv89K7dyq8qDKVEHV4iOn4.k1.usSRyiTE5q98-iKvxAh1mGN88Gc2K_sS3UHYyZbCOK3edrNgQ5vA1lavZj_oWTjXH4PfAIheqkXIPJSzsCGjrw",
      sealed: "k1:Sn3BDAJrYdBAj5esNsvyJllysIAZlDNGQOqYdFfF_cg24qf51d9Z3g",
    },
  ] as const;

  it.each(vectors)("format $format locates and reveals exactly as when it was minted, whichever format is minted now", ({ token, sealed }) => {
    for (const minting of [1, 2] as const) {
      const locator = createTokenLocator(ring, minting);
      expect(locator.locate(token)).toEqual(location);
      expect(locator.reveal(sealed, location)).toBe(token);
    }
  });
});

describe("token format 1 (AES-256-GCM)", () => {
  it("a tampered byte anywhere in the body makes it not a minted token", () => {
    const locator = createTokenLocator([k1], 1);
    const { token } = locator.mint(at);
    expect(locator.locate(flip(token, 2, 0))).toBeUndefined(); // the ciphertext
    expect(locator.locate(flip(token, 2, 20))).toBeUndefined();
  });
});

describe("token format 2 (HKDF-SHA-512 keystream)", () => {
  const locator = createTokenLocator([k1], 2);

  it("the body is the padded location XOR HKDF-SHA-512(ring key, label ‖ secret), as hkdfSync computes it", () => {
    for (const sessionId of ["u.0123abcd.4567ef01", `${"u".repeat(45)}.0123abcd.4567ef01`, `${"u".repeat(128)}.0123abcd.4567ef01`]) {
      const location = { tenantId: "tenant-a", sessionId };
      const [secretText, , bodyText] = locator.mint(location).token.split(".") as [string, string, string];
      const body = Buffer.from(bodyText, "base64url");
      const plain = xor(body, v2Keystream(k1.key, Buffer.from(secretText, "base64url"), body.length));
      const text = `tenant-a\n${sessionId}`;
      // At least 16 zero bytes, and no more than reach the next multiple of 32.
      expect(body.length).toBe(Math.ceil((text.length + 16) / 32) * 32);
      expect(plain).toEqual(Buffer.concat([Buffer.from(text), Buffer.alloc(body.length - text.length)]));
    }
  });

  it("a changed body byte opens to another location (malleable, as any stream cipher) or, in the padding, to none", () => {
    const { token } = locator.mint(at);
    const bodyBytes = Buffer.from(token.split(".")[2]!, "base64url").length;
    // Inside the location the keystream does not protect it: the store's token hash check does.
    expect(locator.locate(flip(token, 2, 0))).toEqual({ ...at, tenantId: "uenant-a" });
    expect(locator.locate(flip(token, 2, 8))).toBeUndefined(); // the newline, now a control character
    for (let byte = at.tenantId.length + at.sessionId.length + 1; byte < bodyBytes; byte++) {
      expect(locator.locate(flip(token, 2, byte))).toBeUndefined(); // the padding
    }
  });

  it("mints only ASCII locations (tenant and user ids are ASCII)", () => {
    expect(() => locator.mint({ tenantId: "t-é", sessionId: "u.0123abcd.4567ef01" })).toThrow();
    expect(() => locator.mint({ tenantId: "t", sessionId: "u x.0123abcd.4567ef01" })).toThrow();
    expect(() => locator.mint({ tenantId: "t\nu", sessionId: "u.0123abcd.4567ef01" })).toThrow();
  });
});

describe("hkdf keystream", () => {
  it("is HKDF-SHA-512 (RFC 5869) with no salt, for every length up to 255 blocks, call after call", () => {
    const key = randomBytes(32);
    const stream = createHkdfKeystream(key, "label\n", 32);
    // Short after long too: what a long call leaves in the scratch must not reach a short one.
    for (const length of [1, 31, 63, 64, 65, 127, 128, 129, 1000, 255 * 64, 64, 1, 200, 65, 7]) {
      for (let round = 0; round < 2; round++) {
        const nonce = randomBytes(32);
        const target = randomBytes(length + 3);
        const before = Buffer.from(target);
        stream.xor(nonce, target, length);
        const expected = Buffer.from(hkdfSync("sha512", key, Buffer.alloc(0), Buffer.concat([Buffer.from("label\n"), nonce]), length));
        expect(xor(before.subarray(0, length), expected)).toEqual(target.subarray(0, length));
        expect(target.subarray(length)).toEqual(before.subarray(length));
      }
    }
    expect(() => stream.xor(randomBytes(31), Buffer.alloc(8), 8)).toThrow();
    expect(() => stream.xor(randomBytes(32), Buffer.alloc(8), 9)).toThrow();
    expect(() => stream.xor(randomBytes(32), Buffer.alloc(255 * 64 + 1), 255 * 64 + 1)).toThrow();
  });
});

describe("token locate", () => {
  it("answers exactly as a plain decode-then-decrypt reference of both formats, over minted, forged, tampered and malformed tokens", () => {
    // Two kids of different lengths, so each one's associated data is its own.
    const long = { id: "rotation-2026_long-kid", key: randomBytes(32) };
    const ring = [long, k1];
    const minting = { 1: createTokenLocator(ring, 1), 2: createTokenLocator(ring, 2) } as const;
    const { rand, bytes, pick } = randomSource(0x2545f491);
    const pieces = ["a", "Z", "0", ".", "-", "@", "\n", "\0", "é", "ß", "€", "日本", "😀", "\ud800", "\udfff", "\u0085", "\u2028"];
    const asciiPieces = ["a", "Z", "0", ".", "-", "@", "~", "!", "\n", " ", "\x7f", "\0"];
    const text = (max: number, from = pieces) => Array.from({ length: rand(max + 1) }, () => pick(from)).join("");

    // The reference: the parts decoded (Buffer.from), strictness by re-encoding, then format 1's
    // GCM decrypt or format 2's hkdfSync keystream, chosen by the body's length.
    const ringKeys = new Map(ring.map((e) => [e.id, e.key]));
    const gcmKeys = new Map(ring.map((e) => [e.id, Buffer.from(hkdfSync("sha256", e.key, Buffer.alloc(0), "secure-session-storage/token-locator", 32))]));
    const openV1 = (kid: string, secret: Buffer, body: Buffer) => {
      const decipher = createDecipheriv("aes-256-gcm", gcmKeys.get(kid)!, secret.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(Buffer.concat([secret, Buffer.from(kid)]));
      decipher.setAuthTag(body.subarray(body.length - 16));
      try {
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8").replace(/\0+$/, "");
      } catch {
        return undefined;
      }
    };
    const openV2 = (kid: string, secret: Buffer, body: Buffer) => {
      const plain = xor(body, v2Keystream(ringKeys.get(kid)!, secret, body.length)).toString("latin1");
      const text = plain.replace(/\0+$/, "");
      const padding = plain.length - text.length;
      return padding >= 16 && padding < 48 && /^[\x21-\x7e]+\n[\x21-\x7e]+$/.test(text) ? text : undefined;
    };
    const reference = (token: string) => {
      const parts = token.split(".");
      if (parts.length !== 3) return undefined;
      const [secretText, kid, bodyText] = parts as [string, string, string];
      const secret = strict(secretText);
      const body = strict(bodyText);
      if (!ringKeys.has(kid) || secret?.length !== 32 || !body) return undefined;
      let plain;
      // No location is longer than 211 bytes: 256-byte bodies in format 2, 240 in format 1.
      if (body.length >= 32 && body.length <= 256 && body.length % 32 === 0) plain = openV2(kid, secret, body);
      else if (body.length >= 48 && body.length <= 240 && (body.length - 16) % 32 === 0) plain = openV1(kid, secret, body);
      if (plain === undefined) return undefined;
      const newline = plain.indexOf("\n");
      return newline < 1 || newline === plain.length - 1 ? undefined : { tenantId: plain.slice(0, newline), sessionId: plain.slice(newline + 1) };
    };
    // A token sealing any bytes (not only a minted location), so every decode path is reached.
    const forge = (plain: Buffer, kid: string, format: TokenFormat) => {
      const secret = bytes(32);
      let body: Buffer;
      if (format === 2) {
        body = xor(plain, v2Keystream(ringKeys.get(kid)!, secret, plain.length));
      } else {
        const cipher = createCipheriv("aes-256-gcm", gcmKeys.get(kid)!, secret.subarray(0, 12), { authTagLength: 16 });
        cipher.setAAD(Buffer.concat([secret, Buffer.from(kid)]));
        body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      }
      return `${secret.toString("base64url")}.${kid}.${body.toString("base64url")}`;
    };
    const mutate = (token: string): string => {
      const at = rand(token.length);
      switch (rand(9)) {
        case 0: return `${token.slice(0, at)}${alphabet[rand(alphabet.length)]}${token.slice(at + 1)}`;
        case 1: return `${token.slice(0, at)}${pick(["=", "+", "/", " ", ".", "é", "\n", "A"])}${token.slice(at)}`;
        case 2: return `${token.slice(0, at)}${token.slice(at + 1)}`;
        case 3: return token.slice(0, token.length - 1 - rand(4));
        case 4: return `${token}${bytes(1 + rand(40)).toString("base64url")}`;
        case 5: {
          const [secret, kid, body] = token.split(".") as [string, string, string];
          return `${secret}.${pick(["k2", "k1", long.id, "", "K1", `${kid}x`])}.${body}`;
        }
        case 6: {
          // Spare bits set in the last character of one part.
          const parts = token.split(".");
          const i = pick([0, 2]);
          const p = parts[i]!;
          if (p.length === 0) return token;
          parts[i] = `${p.slice(0, -1)}${alphabet[alphabet.indexOf(p.at(-1)!) ^ (1 << rand(4))] ?? "A"}`;
          return parts.join(".");
        }
        case 7: {
          // Another token's body or secret, of either format.
          const parts = token.split(".");
          const other = minting[pick([1, 2] as const)].mint({ tenantId: "t", sessionId: `s${text(8, ["a", "-", "."])}` }).token.split(".");
          const i = pick([0, 2]);
          parts[i] = other[i]!;
          return parts.join(".");
        }
        default: return `${bytes(32).toString("base64url")}.${pick(["k1", long.id])}.${bytes(pick([32, 47, 48, 49, 64, 80, 240, 256, 272, 288, 1040])).toString("base64url")}`;
      }
    };

    const tokens: string[] = ["", ".", "..", "...", "a.k1.b", `${"A".repeat(43)}.k1.${"A".repeat(64)}`, `${"A".repeat(43)}.k1.${"A".repeat(1387)}`];
    const paddings = [0, 1, 5, 16, 32, 33, 160, 192, 224, 1100];
    for (let i = 0; i < 400; i++) {
      const format: TokenFormat = i % 2 ? 1 : 2;
      // Format 2 mints ASCII locations only.
      const at = format === 1
        ? { tenantId: text(6), sessionId: i % 3 === 0 ? `user-${i}.0123abcd.4567ef01` : text(i % 50 === 1 ? 25 : 12) }
        : { tenantId: `t${text(5, ["a", "-", "."])}`, sessionId: `u${"x".repeat(i % 50 === 0 ? 127 : rand(20))}.0123abcd.4567ef01` };
      if (at.tenantId && at.sessionId) {
        const { token } = (i % 4 < 2 ? minting[format] : createTokenLocator([long, k1], format)).mint(at);
        tokens.push(token, mutate(token), mutate(mutate(token)));
      }
      const forgedFormat = pick([1, 2] as const);
      // The longest locations, and longer ones no session has (refused unread).
      const plain = i % 25 === 0 ? Buffer.from(`t\n${"x".repeat(pick([180, 195, 209, 210, 211, 212, 230, 1100]))}`) : i % 4 === 0 ? bytes(rand(70)) : Buffer.from(`${text(4, forgedFormat === 2 ? asciiPieces : pieces)}\n${text(6, forgedFormat === 2 ? asciiPieces : pieces)}${"\0".repeat(rand(3))}`);
      // Format 1 pads to 32; format 2 to 16 zero bytes or more (less, or more than needed, must not open).
      const wanted = forgedFormat === 2 ? Math.ceil((plain.length + pick([0, 15, 16, 16, 16, 17])) / 32) * 32 : Math.ceil(plain.length / 32) * 32;
      const padded = Buffer.alloc(Math.max(32, wanted) + (i % 7 === 0 ? pick(paddings) : 0));
      plain.copy(padded);
      const forged = forge(padded, pick(["k1", long.id]), forgedFormat);
      tokens.push(forged, mutate(forged));
    }
    const located = { 1: 0, 2: 0 };
    const locatedLong = { 1: 0, 2: 0 };
    for (const token of tokens) {
      const expected = reference(token);
      const format = Buffer.from(token.split(".")[2] ?? "", "base64url").length % 32 === 0 ? 2 : 1;
      if (expected) located[format]++;
      if (expected && Buffer.from(token.split(".")[2]!, "base64url").length >= 224) locatedLong[format]++;
      expect(minting[1].locate(token), JSON.stringify(token)).toEqual(expected);
      expect(minting[2].locate(token), JSON.stringify(token)).toEqual(expected);
    }
    // Again in another order: what one call leaves behind does not change the next.
    for (let i = tokens.length - 1; i >= 0; i -= 3) expect(minting[2].locate(tokens[i]!)).toEqual(reference(tokens[i]!));
    expect(located[1]).toBeGreaterThan(150);
    expect(located[2]).toBeGreaterThan(150);
    expect(located[1] + located[2]).toBeLessThan(tokens.length / 2);
    // Up to the longest bodies, in both formats.
    expect(locatedLong[1]).toBeGreaterThan(0);
    expect(locatedLong[2]).toBeGreaterThan(0);
  });
});
