import { sessionCookieName } from "./credentials.js";

/** parseBearer reads "Bearer <token>" (scheme case-insensitive). */
export function parseBearer(authorization: string | null): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** parseSessionCookie returns the session cookie's value from a Cookie header. */
export function parseSessionCookie(cookieHeader: string | null): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === sessionCookieName) {
      const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

