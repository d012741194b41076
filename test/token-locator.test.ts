// Minted tokens carry their session's location, sealed: what decodes, what
// does not, and how the stored secret rebuilds the token. No Redis needed.
import { randomBytes } from "node:crypto";
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
});
