// The keyed hash computes HMAC-SHA-256 from its pads with one-shot hashes:
// it must give exactly what Node's createHmac gives, for every input, or
// stored token hashes would stop matching. No Redis needed.
import { createHmac, hkdfSync, randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";

const master = randomBytes(32);
const reference = (purpose: string, input: string, bytes: number) =>
  createHmac("sha256", Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `secure-session-storage/${purpose}`, 32)))
    .update(input)
    .digest()
    .subarray(0, bytes)
    .toString("base64url");

// ASCII, two-, three- and four-byte UTF-8 characters, and a lone surrogate (UTF-8 writes U+FFFD).
const alphabet = ["a", "Z", "0", ".", "-", "é", "ß", "€", "✓", "😀", "\ud800", "\u0000"];
const randomText = (length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");

describe("keyed hash", () => {
  it("equals createHmac under the purpose's derived key, for 16- and 32-byte digests and any input", () => {
    for (const bytes of [16, 24, 32]) {
      const keyed = createKeyedHash(master, "token-lookup", bytes);
      for (let i = 0; i < 400; i++) {
        const input = i % 4 === 0 ? randomBytes(randomInt(1, 200)).toString("base64url") : randomText(randomInt(0, 300));
        expect(keyed.digest(input)).toBe(reference("token-lookup", input, bytes));
      }
    }
  });

  it("gives the same digest for the same input every time, whatever came before (no state left in its buffers)", () => {
    const keyed = createKeyedHash(master, "page-token");
    const first = keyed.digest("short");
    keyed.digest(randomText(3000));
    expect(keyed.digest("short")).toBe(first);
    expect(keyed.digest("")).toBe(reference("page-token", "", 32));
  });

  it("inputs longer than its buffer still hash correctly (the createHmac path), at and around the boundary", () => {
    const keyed = createKeyedHash(master, "token-lookup", 16);
    for (const length of [5460, 5461, 5462, 6000, 20_000]) {
      const ascii = "x".repeat(length);
      const wide = "€".repeat(length);
      expect(keyed.digest(ascii)).toBe(reference("token-lookup", ascii, 16));
      expect(keyed.digest(wide)).toBe(reference("token-lookup", wide, 16));
    }
  });

  it("keys differ by purpose, and a digest size outside 16 to 32 bytes is refused", () => {
    expect(createKeyedHash(master, "token-lookup").digest("t")).not.toBe(createKeyedHash(master, "page-token").digest("t"));
    expect(() => createKeyedHash(master, "x", 15)).toThrow(/16 to 32/);
    expect(() => createKeyedHash(master, "x", 33)).toThrow(/16 to 32/);
  });
});
