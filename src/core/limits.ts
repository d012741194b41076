/** Input limits, in one place so every face enforces the same ones. */
export const limits = Object.freeze({
  /** Tenant ids (API client ids): no ':', '/' or braces, which delimit Redis keys and hash tags. */
  tenantIdPattern: /^[A-Za-z0-9_.-]{1,64}$/,
  /** User ids: printable, no braces (they delimit Redis hash tags), no spaces. */
  userIdPattern: /^[A-Za-z0-9_@:+=-][A-Za-z0-9_@:+=.-]{0,127}$/,
  /** 32 at least, so the 12 characters of a token preview leave 20 unknown. */
  tokenMinLength: 32,
  tokenMaxLength: 4096,
  /**
   * RFC 6265 cookie-octets: printable ASCII without space, DQUOTE, comma,
   * semicolon or backslash. A token travels as a cookie value and in an
   * Authorization header, so it must not be able to end the value early and
   * add cookie attributes. JWTs and base64url tokens pass.
   */
  tokenPattern: /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/,
  tokenCharactersRule:
    'token may contain only characters valid in a cookie value: printable ASCII except space, double quote ("), ' +
    "comma (,), semicolon (;) and backslash (\\); JWTs and base64url tokens qualify",
  profileMaxBytes: 8192,
  metadataMaxBytes: 4096,
  defaultPageSize: 20,
  maxPageSize: 100,
  maxTtlSeconds: 31_536_000,
  /** A sign-out reason, kept in every event it causes. */
  reasonMaxLength: 200,
});
