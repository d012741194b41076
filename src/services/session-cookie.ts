import { sessionCookieName } from "../auth/credentials.js";

/** CookieOptions are the deployment's cookie attributes. */
export interface CookieOptions {
  readonly secure: boolean;
  readonly domain: string | undefined;
}

/** sessionCookie is the Set-Cookie value that carries a session token to a browser. */
export function sessionCookie(token: string, expiresAt: number, options: CookieOptions): string {
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
