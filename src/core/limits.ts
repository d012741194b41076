/** Input limits, in one place so every face enforces the same ones. */
export const limits = Object.freeze({
  /** User ids: printable, no braces (they delimit Redis hash tags), no spaces. */
  userIdPattern: /^[A-Za-z0-9_@:+=-][A-Za-z0-9_@:+=.-]{0,127}$/,
  /** 32 at least, so the 12 characters of a token preview leave 20 unknown. */
  tokenMinLength: 32,
  tokenMaxLength: 4096,
  /** Printable ASCII without spaces: what may travel in an Authorization header or cookie. */
  tokenPattern: /^[\x21-\x7e]+$/,
  profileMaxBytes: 8192,
  metadataMaxBytes: 4096,
  defaultPageSize: 20,
  maxPageSize: 100,
  maxTtlSeconds: 31_536_000,
});
