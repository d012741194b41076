import { sessionCookieName } from "../auth/credentials.js";
import { ConfigError } from "../config/config.js";
import { limits } from "../core/limits.js";

/** CookieOptions are the deployment's cookie attributes. */
export interface CookieOptions {
  readonly secure: boolean;
  readonly domain: string | undefined;
}

// A Domain attribute value: a host name, nothing that could end the attribute.
const domainPattern = /^\.?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * checkCookieOptions refuses attributes that could smuggle in others (a
 * Domain holding ";"), once, when the service is built.
 */
export function checkCookieOptions(options: CookieOptions): void {
  if (options.domain !== undefined && !domainPattern.test(options.domain)) {
    throw new ConfigError("invalid configuration:\n  - COOKIE_DOMAIN must be a host name (letters, digits, dots and hyphens)");
  }
}

/** isCookieValue says whether a value may stand as a cookie's value: RFC 6265 cookie-octets only. */
export function isCookieValue(value: string): boolean {
  return limits.tokenPattern.test(value);
}

/**
 * sessionCookie is the Set-Cookie value that carries a session token to a
 * browser. A value that is not cookie-octets (a ";" would end it and start
 * an attribute of the caller's choosing) is refused, whatever stored it.
 */
export function sessionCookie(token: string, expiresAt: number, options: CookieOptions): string {
  if (!isCookieValue(token)) throw new Error("refusing to set a session cookie whose value is not cookie-octets");
  return attributes(`${sessionCookieName}=${token}`, new Date(expiresAt).toUTCString(), options);
}

/** expiredSessionCookie tells the browser to drop the cookie. */
export function expiredSessionCookie(options: CookieOptions): string {
  return `${attributes(`${sessionCookieName}=`, new Date(0).toUTCString(), options)}; Max-Age=0`;
}

function attributes(pair: string, expires: string, options: CookieOptions): string {
  // HttpOnly: scripts never read the token. SameSite=Lax: not sent on cross-site subrequests.
  let cookie = `${pair}; Path=/; Expires=${expires}; HttpOnly; SameSite=Lax`;
  if (options.secure) cookie += "; Secure";
  if (options.domain) cookie += `; Domain=${options.domain}`;
  return cookie;
}
