import { createContextKey } from "@connectrpc/connect";

/**
 * Credentials are what the caller presented, parsed once by the auth
 * interceptor. An API client is verified here; session tokens are only
 * carried, because resolving them is the service's one Redis round trip.
 */
export interface Credentials {
  /**
   * The verified API client (tenant), when ClientID and ClientSecret were
   * sent. Sent with a session token, it scopes the token to this tenant.
   */
  readonly clientId?: string;
  /** The token of an `Authorization: Bearer` header. */
  readonly bearerToken?: string;
  /** The sessionCookie cookie's value ("" when the cookie is present but empty). */
  readonly sessionCookie?: string;
}

/** The cookie that carries a session token to and from browsers (the cookie sessions document's name). */
export const sessionCookieName = "sessionCookie";

export const credentialsKey = createContextKey<Credentials>({}, { description: "caller credentials" });
