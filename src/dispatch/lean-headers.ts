/** Node's header record: lower-case names, a string or (set-cookie, repeats) a list. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/**
 * LeanHeaders is the Fetch `Headers` interface over a plain record, so a call
 * context costs no WHATWG validation: Node has already parsed and checked the
 * request's headers, and our own response headers are ours. Names are
 * lower-case; HTTP/2 pseudo-headers (":path") are readable but never listed.
 * `host` falls back to HTTP/2's ":authority".
 */
export class LeanHeaders implements Headers {
  readonly #record: HeaderRecord;

  /** Wraps `record` without copying it: the record is the storage. */
  constructor(record: HeaderRecord = {}) {
    this.#record = record;
  }

  get(name: string): string | null {
    // Names are mostly asked for in lower case already: no new string then.
    const exact = this.#record[name];
    const key = exact === undefined ? name.toLowerCase() : name;
    const value = exact ?? this.#record[key] ?? (key === "host" ? this.#record[":authority"] : undefined);
    if (value === undefined) return null;
    return typeof value === "string" ? value : value.join(key === "cookie" ? "; " : ", ");
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  set(name: string, value: string): void {
    this.#record[name.toLowerCase()] = value;
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.#record[key];
    if (current === undefined) this.#record[key] = key === "set-cookie" ? [value] : value;
    else if (typeof current === "string") this.#record[key] = key === "set-cookie" ? [current, value] : `${current}, ${value}`;
    else current.push(value);
  }

  delete(name: string): void {
    delete this.#record[name.toLowerCase()];
  }

  getSetCookie(): string[] {
    const value = this.#record["set-cookie"];
    return value === undefined ? [] : typeof value === "string" ? [value] : [...value];
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  *entries(): ReturnType<Headers["entries"]> {
    for (const key of Object.keys(this.#record).sort()) {
      if (key.startsWith(":")) continue;
      const value = this.#record[key];
      if (value === undefined) continue;
      if (key === "set-cookie" && typeof value !== "string") for (const cookie of value) yield [key, cookie];
      else yield [key, typeof value === "string" ? value : value.join(", ")];
    }
  }

  *keys(): ReturnType<Headers["keys"]> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): ReturnType<Headers["values"]> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.entries();
  }

  /** The record itself, for handing to Node (`res.writeHead`, `stream.respond`). */
  get record(): HeaderRecord {
    return this.#record;
  }
}
