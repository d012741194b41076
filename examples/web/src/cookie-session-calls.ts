/** A REST answer as the page shows it. */
export interface RestAnswer {
  readonly status: number;
  readonly body: { message?: string; data?: { userId?: string; email?: string; role?: string } };
}

/**
 * signIn asks this site's own back end to create a cookie session. The back
 * end holds the API client secret and relays the service's Set-Cookie, so the
 * HttpOnly sessionCookie lands on this host (cookies ignore ports) and is sent
 * to the service's same-site origin with `credentials: "include"`.
 */
export async function signIn(): Promise<RestAnswer> {
  const res = await fetch("./session", { method: "POST" });
  return { status: res.status, body: await res.json() };
}

/** validateCookieSession: POST /api/session/validateSession with the browser's cookie. */
export function validateCookieSession(serviceUrl: string): Promise<RestAnswer> {
  return cookieCall(serviceUrl, "/api/session/validateSession");
}

/** deleteCookieSession: POST /api/session/deleteSession; the service also drops the cookie. */
export function deleteCookieSession(serviceUrl: string): Promise<RestAnswer> {
  return cookieCall(serviceUrl, "/api/session/deleteSession");
}

// A plain POST with no custom header needs no preflight; the browser adds the
// cookie (credentials: "include") and Origin, which the service checks.
async function cookieCall(serviceUrl: string, path: string): Promise<RestAnswer> {
  const res = await fetch(new URL(path, serviceUrl), { method: "POST", credentials: "include" });
  return { status: res.status, body: await res.json() };
}
