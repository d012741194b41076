// Minted tokens carry their session's location, sealed: what decodes, what
// does not, and how the stored secret rebuilds the token. No Redis needed.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTokenLocator } from "../src/crypto/token-locator.js";

const k1 = { id: "k1", key: randomBytes(32) };
const k2 = { id: "k2", key: randomBytes(32) };
const at = { tenantId: "tenant-a", sessionId: "user@example.com.0123abcd.4567ef01" };

/** The token with one byte of one base64url part flipped, re-encoded. */
function flip(token: string, part: number, byte: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part]!, "base64url");
  bytes[byte]! ^= 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("token locator", () => {
  const locator = createTokenLocator([k1]);

  it("a minted token is <43 base64url secret>.<kid>.<sealed location>, names its session, and is unique", () => {
    const { token } = locator.mint(at);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}\.k1\.[A-Za-z0-9_-]+$/);
    expect(locator.locate(token)).toEqual(at);
    expect(locator.mint(at).token).not.toBe(token);
  });

  it("a token has one spelling: another text of the same bytes is not a minted token", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

  it("a tampered byte in any part makes it not a minted token", () => {
    const { token } = locator.mint(at);
    expect(locator.locate(flip(token, 0, 0))).toBeUndefined(); // the secret (also the IV)
    expect(locator.locate(flip(token, 0, 31))).toBeUndefined(); // the secret past the IV (associated data)
    expect(locator.locate(flip(token, 2, 0))).toBeUndefined(); // the ciphertext
    expect(locator.locate(flip(token, 2, Buffer.from(token.split(".")[2]!, "base64url").length - 1))).toBeUndefined(); // the tag
    expect(locator.locate(token.replace(".k1.", ".k2."))).toBeUndefined();
    expect(locator.locate(`${token}.x`)).toBeUndefined();
    expect(locator.locate(token.slice(0, -2))).toBeUndefined();
  });

  it("tokens of another key ring, and arbitrary tokens, are not minted tokens", () => {
    const other = createTokenLocator([{ id: "k1", key: randomBytes(32) }]);
    expect(locator.locate(other.mint(at).token)).toBeUndefined();
    expect(locator.locate(randomBytes(32).toString("base64url"))).toBeUndefined();
    expect(locator.locate(`eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}.sig`)).toBeUndefined();
    expect(locator.locate("a.k1.b")).toBeUndefined();
  });

  it("after a rotation (k2 prepended) old tokens still decode and reveal; new ones are minted under k2", () => {
    const old = locator.mint(at);
    const rotated = createTokenLocator([k2, k1]);
    expect(rotated.locate(old.token)).toEqual(at);
    expect(rotated.reveal(old.sealed, at)).toBe(old.token);
    const fresh = rotated.mint(at);
    expect(fresh.token.split(".")[1]).toBe("k2");
    expect(fresh.sealed.startsWith("k2.")).toBe(true);
    // A ring without k2 does not know it.
    expect(locator.locate(fresh.token)).toBeUndefined();
    expect(() => locator.reveal(fresh.sealed, at)).toThrow();
  });

  it("the sealed secret rebuilds the same token, only for its own session, and never when tampered", () => {
    const { token, sealed } = locator.mint(at);
    expect(sealed).toMatch(/^k1\.[A-Za-z0-9_-]{54}$/);
    expect(sealed.length).toBeLessThanOrEqual(64); // one compact Redis hash value
    expect(sealed).not.toContain(token.split(".")[0]);
    expect(locator.reveal(sealed, at)).toBe(token);
    expect(() => locator.reveal(sealed, { ...at, sessionId: "user@example.com.0123abcd.4567ef02" })).toThrow();
    expect(() => locator.reveal(sealed, { ...at, tenantId: "tenant-b" })).toThrow();
    const bytes = Buffer.from(sealed.slice(3), "base64url");
    bytes[10]! ^= 0x01;
    expect(() => locator.reveal(`k1.${bytes.toString("base64url")}`, at)).toThrow();
    expect(() => locator.reveal(sealed.slice(0, -1), at)).toThrow();
  });

  it("locate answers exactly as a plain decode-then-decrypt reference, over minted, forged, tampered and malformed tokens", () => {
    // Two kids of different lengths, so each one's associated data is its own.
    const long = { id: "rotation-2026_long-kid", key: randomBytes(32) };
    const ring = [long, k1];
    const subject = createTokenLocator(ring);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rand(256)));
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const pieces = ["a", "Z", "0", ".", "-", "@", "\n", "\0", "é", "ß", "€", "日本", "😀", "\ud800", "\udfff", "\u0085", "\u2028"];
    const text = (max: number) => Array.from({ length: rand(max + 1) }, () => pick(pieces)).join("");

    // The reference: the parts decoded (Buffer.from), strictness by re-encoding, then one GCM decrypt.
    const keys = new Map(ring.map((e) => [e.id, Buffer.from(hkdfSync("sha256", e.key, Buffer.alloc(0), "secure-session-storage/token-locator", 32))]));
    const strict = (t: string) => {
      const b = Buffer.from(t, "base64url");
      return t.length > 0 && b.toString("base64url") === t ? b : undefined;
    };
    const reference = (token: string) => {
      const parts = token.split(".");
      if (parts.length !== 3) return undefined;
      const [secretText, kid, bodyText] = parts as [string, string, string];
      const key = keys.get(kid);
      const secret = strict(secretText);
      const body = strict(bodyText);
      if (!key || secret?.length !== 32 || !body || body.length < 48 || (body.length - 16) % 32 !== 0) return undefined;
      const decipher = createDecipheriv("aes-256-gcm", key, secret.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(Buffer.concat([secret, Buffer.from(kid)]));
      decipher.setAuthTag(body.subarray(body.length - 16));
      let plain: string;
      try {
        plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8").replace(/\0+$/, "");
      } catch {
        return undefined;
      }
      const newline = plain.indexOf("\n");
      return newline < 1 || newline === plain.length - 1 ? undefined : { tenantId: plain.slice(0, newline), sessionId: plain.slice(newline + 1) };
    };
    // A token sealing any bytes (not only a minted location), so every decode path is reached.
    const forge = (plain: Buffer, kid: string) => {
      const secret = bytes(32);
      const cipher = createCipheriv("aes-256-gcm", keys.get(kid)!, secret.subarray(0, 12), { authTagLength: 16 });
      cipher.setAAD(Buffer.concat([secret, Buffer.from(kid)]));
      const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
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
          // Another token's body or secret.
          const parts = token.split(".");
          const other = subject.mint({ tenantId: "t", sessionId: text(8) || "s" }).token.split(".");
          const i = pick([0, 2]);
          parts[i] = other[i]!;
          return parts.join(".");
        }
        default: return `${bytes(32).toString("base64url")}.${pick(["k1", long.id])}.${bytes(pick([32, 47, 48, 49, 64, 80, 1008, 1040])).toString("base64url")}`;
      }
    };

    const tokens: string[] = ["", ".", "..", "...", "a.k1.b", `${"A".repeat(43)}.k1.${"A".repeat(64)}`, `${"A".repeat(43)}.k1.${"A".repeat(1387)}`];
    // Bodies of 1008 bytes fill the reused decode buffer; 1040 and more take their own.
    const paddings = [0, 1, 5, 16, 32, 33, 960, 992, 1100];
    for (let i = 0; i < 400; i++) {
      const at = { tenantId: text(6), sessionId: i % 3 === 0 ? `user-${i}.0123abcd.4567ef01` : text(i % 50 === 0 ? 150 : 12) };
      if (at.tenantId && at.sessionId) {
        const { token } = (i % 2 ? subject : createTokenLocator([long, k1])).mint(at);
        tokens.push(token, mutate(token), mutate(mutate(token)));
      }
      const plain = i % 4 === 0 ? bytes(rand(70)) : Buffer.from(`${text(4)}\n${text(6)}${"\0".repeat(rand(3))}`);
      const padded = Buffer.alloc(Math.max(32, Math.ceil(plain.length / 32) * 32) + (i % 7 === 0 ? pick(paddings) : 0));
      plain.copy(padded);
      const forged = forge(padded, pick(["k1", long.id]));
      tokens.push(forged, mutate(forged));
    }
    let located = 0;
    let locatedLong = 0;
    for (const token of tokens) {
      const expected = reference(token);
      if (expected) located++;
      if (expected && token.length > 43 + 1 + 1400) locatedLong++;
      expect(subject.locate(token), JSON.stringify(token)).toEqual(expected);
    }
    // Again in another order: what one call leaves behind does not change the next.
    for (let i = tokens.length - 1; i >= 0; i -= 3) expect(subject.locate(tokens[i]!)).toEqual(reference(tokens[i]!));
    expect(located).toBeGreaterThan(300);
    expect(located).toBeLessThan(tokens.length / 2);
    expect(locatedLong).toBeGreaterThan(0);
  });

  it("the longest locations mint and decode, between short ones", () => {
    const long = { tenantId: "t-é", sessionId: `${"ü".repeat(478)}.0123abcd.4567ef01` };
    const a = locator.mint(long).token;
    const b = locator.mint(at).token;
    expect(Buffer.from(a.split(".")[2]!, "base64url").length).toBe(1008);
    expect(locator.locate(b)).toEqual(at);
    expect(locator.locate(a)).toEqual(long);
    expect(locator.locate(b)).toEqual(at);
  });
});
