/**
 * LocationSeal hides a session's location ("<tenant>\n<session id>") in a
 * minted token's body, under one ring key and the token's secret. Each
 * token format has its own; the body's length tells them apart.
 */
export interface LocationSeal {
  /** Whether a body of this many bytes can be this seal's. */
  fits(bodyBytes: number): boolean;
  /** The body for a location, under a token's 32-byte secret. */
  seal(secret: Buffer, location: string): Buffer;
  /** The location the first `bodyBytes` of `body` open to, or undefined; may overwrite `body`. */
  open(secret: Buffer, body: Buffer, bodyBytes: number): string | undefined;
}
