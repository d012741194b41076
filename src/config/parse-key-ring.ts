/** KeyRingEntry is one named 256-bit key. */
export interface KeyRingEntry {
  readonly id: string;
  readonly key: Buffer;
}

/** parseKeyRing reads "kid:base64key,kid:base64key"; the first key is the active one. */
export function parseKeyRing(v: string): KeyRingEntry[] {
  const entries = v.split(",").map((p) => p.trim()).filter(Boolean).map((pair) => {
    const at = pair.indexOf(":");
    if (at < 1) throw new Error("each key must be written kid:base64key");
    const id = pair.slice(0, at);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`key id "${id}" must be 1-32 letters, digits, _ or -`);
    const key = Buffer.from(pair.slice(at + 1), "base64");
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes, base64`);
    return Object.freeze({ id, key });
  });
  if (entries.length === 0) throw new Error("needs at least one key");
  if (new Set(entries.map((e) => e.id)).size !== entries.length) throw new Error("key ids must be unique");
  return entries;
}
