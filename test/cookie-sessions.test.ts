// Cookie sessions (seed 004) over REST, gRPC and Connect, against the real
// service and a real Redis.
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { CookieSessionService } from "../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { createApiClientVerifier } from "../src/auth/api-client-verifier.js";
import { createAuthInterceptor } from "../src/auth/auth-interceptor.js";
import { createCookieSessionService } from "../src/services/cookie-session-service.js";
import { scanAllKeys } from "./support/scan-all-keys.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// The document's messages, verbatim.
const MSG = {
  userIdRequired: "Invalid request: user ID is required in the request body.",
  requestError: "There was an error with the request.",
  cookieRequired: "Invalid request: session cookie is required.",
  cookieExpired: "Invalid request: session cookie is expired. Please create a new session.",
  sessionIdRequired: "Invalid request: session ID is required.",
  notExpired: "Session is not expired",
  deleted: "Session deleted.",
};

const SAMPLE_USER_ID = "1234eigh89b02749e3a41c34";
const IDLE_SECONDS = 2;

/** Default cookie settings (Secure on, no Domain). */
let t: TestApp;
/** Local HTTP settings: Secure off, a Domain, and a short idle timeout to watch expiry move. */
let local: TestApp;
beforeAll(async () => {
  [t, local] = await Promise.all([
    startTestApp(),
    startTestApp({ COOKIE_SECURE: "false", COOKIE_DOMAIN: "example.test", SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) }),
  ]);
});
afterAll(async () => {
  await Promise.all([t?.close(), local?.close()]);
});

// ---------- helpers ----------

type Json = Record<string, any>;

interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lowercased; flags map to true. */
  attributes: Map<string, string | true>;
  raw: string;
}

function parseSetCookie(raw: string): SetCookie {
  const [pair = "", ...rest] = raw.split(";").map((p) => p.trim());
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string | true>();
  for (const attr of rest) {
    if (attr === "") continue;
    const i = attr.indexOf("=");
    if (i < 0) attributes.set(attr.toLowerCase(), true);
    else attributes.set(attr.slice(0, i).trim().toLowerCase(), attr.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes, raw };
}

/** The single sessionCookie among the Set-Cookie lines. */
function sessionCookieOf(setCookies: string[]): SetCookie {
  const cookies = setCookies.map(parseSetCookie).filter((c) => c.name === "sessionCookie");
  expect(cookies, `Set-Cookie lines: ${JSON.stringify(setCookies)}`).toHaveLength(1);
  return cookies[0]!;
}

function expiresOf(cookie: SetCookie): number {
  const expires = cookie.attributes.get("expires");
  expect(typeof expires).toBe("string");
  const ms = Date.parse(expires as string);
  expect(Number.isNaN(ms)).toBe(false);
  return ms;
}

/** Asserts the attributes every live sessionCookie carries. */
function expectLiveCookie(cookie: SetCookie, opts: { secure: boolean; domain?: string }) {
  expect(cookie.value.length).toBeGreaterThanOrEqual(32);
  expect(cookie.attributes.get("httponly")).toBe(true);
  expect(cookie.attributes.get("samesite")).toBe("Lax");
  expect(cookie.attributes.get("path")).toBe("/");
  expect(cookie.attributes.get("expires")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  expect(expiresOf(cookie)).toBeGreaterThan(Date.now() - 1000);
  expect(cookie.attributes.has("max-age")).toBe(false);
  if (opts.secure) expect(cookie.attributes.get("secure")).toBe(true);
  else expect(cookie.attributes.has("secure")).toBe(false);
  if (opts.domain) expect(cookie.attributes.get("domain")).toBe(opts.domain);
  else expect(cookie.attributes.has("domain")).toBe(false);
}

/** Asserts a Set-Cookie that makes the browser drop sessionCookie. */
function expectExpiredCookie(cookie: SetCookie, opts: { secure: boolean; domain?: string }) {
  expect(cookie.value).toBe("");
  const maxAge = cookie.attributes.get("max-age");
  const expires = cookie.attributes.get("expires");
  expect(maxAge === "0" || (typeof expires === "string" && Date.parse(expires) <= Date.now())).toBe(true);
  if (typeof expires === "string") expect(Date.parse(expires)).toBe(0);
  expect(maxAge).toBe("0");
  // The same Path and Domain as the live cookie, or the browser keeps the live one.
  expect(cookie.attributes.get("path")).toBe("/");
  if (opts.domain) expect(cookie.attributes.get("domain")).toBe(opts.domain);
  else expect(cookie.attributes.has("domain")).toBe(false);
  expect(cookie.attributes.get("httponly")).toBe(true);
  if (opts.secure) expect(cookie.attributes.get("secure")).toBe(true);
}

async function post(app: TestApp, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${app.baseUrl}/api/session/${path}`, {
    method: "POST",
    headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
    body: init.body,
  });
  const text = await res.text();
  let body: Json | undefined;
  try {
    body = text === "" ? undefined : (JSON.parse(text) as Json);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text}`);
  }
  return { status: res.status, headers: res.headers, setCookies: res.headers.getSetCookie(), body: body as Json };
}

const uid = () => `u${randomBytes(12).toString("hex")}`;

async function createSession(app: TestApp, body: Json) {
  const res = await post(app, "createSession", { headers: app.clientA.headers, body: JSON.stringify(body) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...res, cookie: sessionCookieOf(res.setCookies) };
}

const withCookie = (token: string) => ({ Cookie: `sessionCookie=${token}` });
const isoWithMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// ---------- createSession ----------

describe("POST /api/session/createSession", () => {
  test("the documented sample: 200 {text: {userId, sessionId, sessionExpiry, _id, __v}} and the sessionCookie", async () => {
    const before = Date.now();
    const res = await post(t, "createSession", { headers: t.clientA.headers, body: JSON.stringify({ userID: SAMPLE_USER_ID }) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(["text"]);
    const text = res.body.text as Json;
    expect(text).toEqual({
      userId: SAMPLE_USER_ID,
      sessionId: expect.any(String),
      sessionExpiry: expect.stringMatching(isoWithMs),
      _id: expect.any(String),
      __v: 0,
    });
    expect(text.sessionId).not.toBe("");
    // The record id is the session id: one id, whichever face shows it.
    expect(text._id).toBe(text.sessionId);
    // Default idle timeout (2 h) from now.
    const expiry = Date.parse(text.sessionExpiry);
    expect(expiry).toBeGreaterThanOrEqual(before + t.config.idleTimeoutSeconds * 1000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + t.config.idleTimeoutSeconds * 1000);

    const cookie = sessionCookieOf(res.setCookies);
    expectLiveCookie(cookie, { secure: true });
    // The cookie lives exactly as long as the session (Expires has second precision).
    expect(expiresOf(cookie)).toBe(Math.floor(expiry / 1000) * 1000);
    // The cookie is the session's token: it authenticates that very session elsewhere.
    const viaBearer = await fetch(`${t.baseUrl}/v1/client/sessions/${encodeURIComponent(text.sessionId)}`, {
      headers: { Authorization: `Bearer ${cookie.value}` },
    });
    expect(viaBearer.status).toBe(200);
    expect(((await viaBearer.json()) as Json).response.user_id).toBe(SAMPLE_USER_ID);
  });

  test("sessionExpiry keeps its milliseconds even when they are .000", async () => {
    // Freeze the service's clock on a whole second: JS Date#toISOString (the
    // document's format) still writes ".000Z" there.
    const wholeSecond = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    vi.useFakeTimers({ toFake: ["Date"], now: wholeSecond });
    let app: TestApp | undefined;
    try {
      app = await startTestApp();
      const res = await post(app, "createSession", { headers: app.clientA.headers, body: JSON.stringify({ userID: uid() }) });
      expect(res.status).toBe(200);
      const expected = new Date(wholeSecond + app.config.idleTimeoutSeconds * 1000).toISOString();
      expect(expected.endsWith(".000Z")).toBe(true);
      expect(res.body.text.sessionExpiry).toBe(expected);
    } finally {
      vi.useRealTimers();
      await app?.close();
    }
  });

  test("Domain is set when COOKIE_DOMAIN is configured, and Secure is left out with COOKIE_SECURE=false", async () => {
    const res = await createSession(local, { userID: uid() });
    expectLiveCookie(res.cookie, { secure: false, domain: "example.test" });
  });

  test("each session gets its own token and id", async () => {
    const userID = uid();
    const a = await createSession(t, { userID });
    const b = await createSession(t, { userID });
    expect(a.cookie.value).not.toBe(b.cookie.value);
    expect(a.body.text.sessionId).not.toBe(b.body.text.sessionId);
  });

  test("missing userID is 400 with the documented message", async () => {
    for (const body of ["{}", JSON.stringify({ userID: "" }), JSON.stringify({ email: "a@b.c" }), undefined]) {
      const res = await post(t, "createSession", { headers: { ...t.clientA.headers, "content-type": "application/json" }, body });
      expect(res.status, String(body)).toBe(400);
      expect(res.body).toEqual({ message: MSG.userIdRequired });
      expect(res.setCookies).toEqual([]);
    }
  });

  test("a wrong data type is 400 'There was an error with the request.'", async () => {
    for (const body of [{ userID: 5 }, { userID: ["a"] }, { userID: { id: "a" } }, { userID: "ok", email: 7 }]) {
      const res = await post(t, "createSession", { headers: t.clientA.headers, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ message: MSG.requestError });
      expect(res.setCookies).toEqual([]);
    }
    for (const body of ["not json", "[1,2]", "\"userID\""]) {
      const res = await post(t, "createSession", { headers: t.clientA.headers, body });
      expect(res.status, body).toBe(400);
      expect(res.body).toEqual({ message: MSG.requestError });
    }
  });

  test("a malformed user id is 400 'There was an error with the request.', and nothing is created", async () => {
    for (const userID of ["bad user!", "x".repeat(300), "has spaces {and braces}", ".starts-with-a-dot", "tab\there"]) {
      const res = await post(t, "createSession", { headers: t.clientA.headers, body: JSON.stringify({ userID }) });
      expect(res.status, userID).toBe(400);
      expect(res.body).toEqual({ message: MSG.requestError });
      expect(res.setCookies).toEqual([]);
    }
  });

  test("without API client credentials it is 401 {message}", async () => {
    for (const headers of [{}, { ClientID: t.clientA.id, ClientSecret: "wrong" }, { ClientID: t.clientA.id }] as Record<string, string>[]) {
      const res = await post(t, "createSession", { headers, body: JSON.stringify({ userID: SAMPLE_USER_ID }) });
      expect(res.status).toBe(401);
      expect(Object.keys(res.body)).toEqual(["message"]);
      expect(typeof res.body.message).toBe("string");
      expect(res.body.message).not.toBe("");
      expect(res.setCookies).toEqual([]);
    }
  });
});

// ---------- validateSession ----------

describe("POST /api/session/validateSession", () => {
  test("the documented sample: 200 {message, data: {email, userId, role}} and the cookie set again", async () => {
    const userID = "63ded2f901770f255dff8d04";
    const created = await createSession(t, { userID, email: "sample@email.com", role: "Admin" });
    const res = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: MSG.notExpired, data: { email: "sample@email.com", userId: userID, role: "Admin" } });
    const again = sessionCookieOf(res.setCookies);
    expect(again.value).toBe(created.cookie.value);
    expectLiveCookie(again, { secure: true });
    expect(expiresOf(again)).toBeGreaterThanOrEqual(expiresOf(created.cookie));
  });

  test("email and role are present as \"\" when not given", async () => {
    const userID = uid();
    const created = await createSession(t, { userID });
    const res = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: MSG.notExpired, data: { email: "", userId: userID, role: "" } });
  });

  test("email and role can come from a user profile object", async () => {
    const userID = uid();
    const created = await createSession(t, { userID, user: { email: "p@example.com", role: "Editor", power: 100 } });
    const res = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.body).toEqual({ message: MSG.notExpired, data: { email: "p@example.com", userId: userID, role: "Editor" } });
  });

  test("slides the expiry: the cookie comes back with a later Expires", async () => {
    const created = await createSession(local, { userID: uid() });
    const firstExpiry = expiresOf(created.cookie);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await post(local, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(200);
    const again = sessionCookieOf(res.setCookies);
    expectLiveCookie(again, { secure: false, domain: "example.test" });
    expect(expiresOf(again)).toBeGreaterThan(firstExpiry);
    // And the session itself lives on past its first expiry.
    await new Promise((r) => setTimeout(r, Math.max(0, firstExpiry + 1000 - Date.now())));
    const later = await post(local, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(later.status).toBe(200);
  });

  test("an expired session is 400 with the documented message", async () => {
    const created = await createSession(local, { userID: uid() });
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000 + 150));
    const res = await post(local, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: MSG.cookieExpired });
  });

  test("an unknown cookie is 400 expired, and the browser is told to drop it", async () => {
    for (const token of [randomBytes(32).toString("base64url"), "short", "x".repeat(5000)]) {
      const res = await post(t, "validateSession", { headers: withCookie(token) });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: MSG.cookieExpired });
      expectExpiredCookie(sessionCookieOf(res.setCookies), { secure: true });
    }
  });

  test("without a cookie it is 400 'session cookie is required'", async () => {
    for (const headers of [{}, { Cookie: "other=1; theme=dark" }, { Cookie: "sessionCookie=" }] as Record<string, string>[]) {
      const res = await post(t, "validateSession", { headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.body).toEqual({ message: MSG.cookieRequired });
    }
  });

  test("finds sessionCookie among other cookies, and ignores a body", async () => {
    const userID = uid();
    const created = await createSession(t, { userID, role: "Viewer" });
    const res = await post(t, "validateSession", {
      headers: { Cookie: `theme=dark; sessionCookie=${created.cookie.value}; lang=en` },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ email: "", userId: userID, role: "Viewer" });
  });

  test("a session ended through the client sessions API no longer validates", async () => {
    const created = await createSession(t, { userID: uid() });
    const ended = await fetch(`${t.baseUrl}/v1/client/sessions/${encodeURIComponent(created.body.text.sessionId)}/end`, {
      method: "POST",
      headers: t.clientA.headers,
    });
    expect(ended.status).toBe(200);
    const res = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: MSG.cookieExpired });
  });
});

// ---------- cross-site requests ----------

describe("cookie calls from another origin (CSRF)", () => {
  const FORBIDDEN = /origin/i;

  async function expectRefused(res: Awaited<ReturnType<typeof post>>) {
    expect(res.status).toBe(403);
    expect(Object.keys(res.body)).toEqual(["message"]);
    expect(res.body.message).toMatch(FORBIDDEN);
    expect(res.setCookies).toEqual([]);
  }

  test("validate and delete from a foreign Origin are 403 {message}, even as a text/plain form post, and the session survives", async () => {
    const created = await createSession(t, { userID: uid() });
    for (const origin of ["https://evil.example", "null", `http://127.0.0.1:${t.port + 1}`, `https://127.0.0.1.evil.example`]) {
      for (const path of ["validateSession", "deleteSession"]) {
        // What a cross-site form can send without a preflight: text/plain (here a JSON-looking body) or an empty form.
        await expectRefused(
          await post(t, path, { headers: { ...withCookie(created.cookie.value), Origin: origin, "content-type": "text/plain" }, body: "{}" }),
        );
        await expectRefused(
          await post(t, path, { headers: { ...withCookie(created.cookie.value), Origin: origin, "content-type": "application/x-www-form-urlencoded" } }),
        );
      }
    }
    const still = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(still.status).toBe(200);
    expect(still.body.message).toBe(MSG.notExpired);
  });

  test("the service's own origin (http or https on the Host) and no Origin at all are served", async () => {
    const created = await createSession(t, { userID: uid() });
    for (const origin of [t.baseUrl, `https://127.0.0.1:${t.port}`]) {
      const res = await post(t, "validateSession", { headers: { ...withCookie(created.cookie.value), Origin: origin } });
      expect(res.status, origin).toBe(200);
    }
    expect((await post(t, "validateSession", { headers: withCookie(created.cookie.value) })).status).toBe(200);
    const deleted = await post(t, "deleteSession", { headers: { ...withCookie(created.cookie.value), Origin: t.baseUrl } });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: MSG.deleted });

    const other = await createSession(t, { userID: uid() });
    expect((await post(t, "deleteSession", { headers: withCookie(other.cookie.value) })).status).toBe(200);
  });

  test("createSession (API client credentials, no cookie) is not affected by Origin", async () => {
    const res = await post(t, "createSession", {
      headers: { ...t.clientA.headers, Origin: "https://evil.example" },
      body: JSON.stringify({ userID: uid() }),
    });
    expect(res.status).toBe(200);
  });

  test.each([
    ["Connect over HTTP/1.1 (Host)", () => createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" })],
    ["gRPC over HTTP/2 (:authority)", () => createGrpcTransport({ baseUrl: t.baseUrl })],
  ] as const)("%s: a foreign Origin is PERMISSION_DENIED, the own origin is served", async (_name, makeTransport) => {
    const created = await createSession(t, { userID: uid() });
    const client = createClient(CookieSessionService, makeTransport());
    const headers = { cookie: `sessionCookie=${created.cookie.value}`, origin: "https://evil.example" };
    for (const p of [client.validateCookieSession({}, { headers }), client.deleteCookieSession({}, { headers })]) {
      const error = await p.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect(Code[(error as ConnectError).code]).toBe("PermissionDenied");
    }
    const ok = await client.validateCookieSession({}, { headers: { cookie: headers.cookie, origin: t.baseUrl } });
    expect(ok.message).toBe(MSG.notExpired);
  });

  test("REST over HTTP/2 (:authority, no Host): the own origin is served, a foreign one refused", async () => {
    const created = await createSession(t, { userID: uid() });
    const session = http2.connect(t.baseUrl);
    try {
      const send = (origin: string) =>
        new Promise<number>((resolve, reject) => {
          const stream = session.request({ ":method": "POST", ":path": "/api/session/validateSession", cookie: `sessionCookie=${created.cookie.value}`, origin });
          stream.on("response", (h) => resolve(Number(h[":status"])));
          stream.on("error", reject);
          stream.resume();
          stream.end();
        });
      expect(await send(t.baseUrl)).toBe(200);
      expect(await send("https://evil.example")).toBe(403);
    } finally {
      session.close();
    }
  });

  test("origins on the configured allow-list are served; others are refused", async () => {
    // The service on its own, with an allow-list (the server passes CORS_ALLOWED_ORIGINS).
    const service = createCookieSessionService(t.app.core, { secure: true, domain: undefined, allowedOrigins: ["https://app.example"] });
    const transport = createRouterTransport((router) => router.service(CookieSessionService, service), {
      router: { interceptors: [createAuthInterceptor(createApiClientVerifier([]))] },
    });
    const client = createClient(CookieSessionService, transport);
    const created = await createSession(t, { userID: uid() });
    const cookie = `sessionCookie=${created.cookie.value}`;
    const refused = async (headers: Record<string, string>) => {
      const error = await client.validateCookieSession({}, { headers }).then(() => undefined, (e: unknown) => e);
      expect(Code[(error as ConnectError).code], JSON.stringify(headers)).toBe("PermissionDenied");
    };
    expect((await client.validateCookieSession({}, { headers: { cookie, origin: "https://app.example", host: "sessions.example" } })).message).toBe(MSG.notExpired);
    expect((await client.validateCookieSession({}, { headers: { cookie, origin: "https://sessions.example", host: "sessions.example" } })).message).toBe(MSG.notExpired);
    await refused({ cookie, origin: "https://evil.example", host: "sessions.example" });
    await refused({ cookie, origin: "https://app.example.evil.example", host: "sessions.example" });
    await refused({ cookie, origin: "http://sessions.example:8080", host: "sessions.example" });
    expect((await client.deleteCookieSession({}, { headers: { cookie, origin: "https://app.example" } })).message).toBe(MSG.deleted);
  });
});

// ---------- deleteSession ----------

describe("POST /api/session/deleteSession", () => {
  test("200 {message: 'Session deleted.'}, cookie expired, session gone", async () => {
    const created = await createSession(t, { userID: uid() });
    const sessionId = created.body.text.sessionId as string;
    const res = await post(t, "deleteSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: MSG.deleted });
    expectExpiredCookie(sessionCookieOf(res.setCookies), { secure: true });

    const validate = await post(t, "validateSession", { headers: withCookie(created.cookie.value) });
    expect(validate.status).toBe(400);
    expect(validate.body).toEqual({ message: MSG.cookieExpired });
    const got = await fetch(`${t.baseUrl}/v1/client/sessions/${encodeURIComponent(sessionId)}`, { headers: t.clientA.headers });
    expect(got.status).toBe(404);
    const status = await fetch(`${t.baseUrl}/auth/status`, { headers: { Authorization: `Bearer ${created.cookie.value}` } });
    expect(status.status).toBe(401);
    // Nothing of it is left in Redis.
    expect(await scanAllKeys(t.redis, `*${sessionId}*`)).toEqual([]);
  });

  test("the expired cookie carries the configured Domain (and no Secure when off)", async () => {
    const created = await createSession(local, { userID: uid() });
    const res = await post(local, "deleteSession", { headers: withCookie(created.cookie.value) });
    expect(res.status).toBe(200);
    const cookie = sessionCookieOf(res.setCookies);
    expectExpiredCookie(cookie, { secure: false, domain: "example.test" });
    expect(cookie.attributes.has("secure")).toBe(false);
  });

  test("deleting twice: the second is 400 expired", async () => {
    const created = await createSession(t, { userID: uid() });
    expect((await post(t, "deleteSession", { headers: withCookie(created.cookie.value) })).status).toBe(200);
    const again = await post(t, "deleteSession", { headers: withCookie(created.cookie.value) });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ message: MSG.cookieExpired });
  });

  test("deletes only the cookie's session, not the user's others", async () => {
    const userID = uid();
    const a = await createSession(t, { userID });
    const b = await createSession(t, { userID });
    expect((await post(t, "deleteSession", { headers: withCookie(a.cookie.value) })).status).toBe(200);
    expect((await post(t, "validateSession", { headers: withCookie(b.cookie.value) })).status).toBe(200);
  });

  test("without a cookie it is 400 'session cookie is required'", async () => {
    for (const headers of [{}, { Cookie: "theme=dark" }] as Record<string, string>[]) {
      const res = await post(t, "deleteSession", { headers });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: MSG.cookieRequired });
    }
  });

  test("with an empty cookie value it is 400 'session ID is required'", async () => {
    for (const cookie of ["sessionCookie=", "theme=dark; sessionCookie=; lang=en", 'sessionCookie=""']) {
      const res = await post(t, "deleteSession", { headers: { Cookie: cookie } });
      expect(res.status, cookie).toBe(400);
      expect(res.body).toEqual({ message: MSG.sessionIdRequired });
    }
  });

  test("an unknown or expired cookie is 400 expired", async () => {
    const res = await post(t, "deleteSession", { headers: withCookie(randomBytes(32).toString("base64url")) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: MSG.cookieExpired });
    const created = await createSession(local, { userID: uid() });
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000 + 150));
    const expired = await post(local, "deleteSession", { headers: withCookie(created.cookie.value) });
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual({ message: MSG.cookieExpired });
  });
});

// ---------- gRPC and Connect ----------

describe.each([
  ["gRPC", () => createGrpcTransport({ baseUrl: t.baseUrl })],
  ["Connect", () => createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" })],
] as const)("CookieSessionService over %s", (_name, makeTransport) => {
  let client: Client<typeof CookieSessionService>;
  beforeAll(() => {
    client = createClient(CookieSessionService, makeTransport());
  });
  const api = () => ({ clientid: t.clientA.id, clientsecret: t.clientA.secret });

  /** Calls with headers, capturing the response headers' Set-Cookie lines. */
  function options(headers: Record<string, string>) {
    const seen: { setCookies: string[] } = { setCookies: [] };
    return { seen, opts: { headers, onHeader: (h: Headers) => (seen.setCookies = h.getSetCookie()) } };
  }

  async function failure(p: Promise<unknown>, code: Code, message: string) {
    const error = await p.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(Code[(error as ConnectError).code]).toBe(Code[code]);
    expect((error as ConnectError).rawMessage).toBe(message);
    return error as ConnectError;
  }

  test("create, validate, delete with the cookie as metadata and Set-Cookie in the response headers", async () => {
    const created = options(api());
    const reply = await client.createCookieSession({ userId: SAMPLE_USER_ID, email: "sample@email.com", role: "Admin" }, created.opts);
    expect(reply.text).toBeDefined();
    expect(reply.text!.userId).toBe(SAMPLE_USER_ID);
    expect(reply.text!.sessionId).not.toBe("");
    expect(reply.text!.recordId).toBe(reply.text!.sessionId);
    expect(reply.text!.recordVersion).toBe(0);
    // A Timestamp over gRPC (or an ISO string, should the proto carry the document's string).
    const sessionExpiry = reply.text!.sessionExpiry!;
    const expiry = typeof sessionExpiry === "string" ? Date.parse(sessionExpiry) : timestampMs(sessionExpiry);
    expect(expiry).toBeGreaterThan(Date.now());
    const cookie = sessionCookieOf(created.seen.setCookies);
    expectLiveCookie(cookie, { secure: true });
    expect(expiresOf(cookie)).toBe(Math.floor(expiry / 1000) * 1000);

    const validated = options({ cookie: `sessionCookie=${cookie.value}` });
    const v = await client.validateCookieSession({}, validated.opts);
    expect(v.message).toBe(MSG.notExpired);
    expect(v.data).toBeDefined();
    expect([v.data!.email, v.data!.userId, v.data!.role]).toEqual(["sample@email.com", SAMPLE_USER_ID, "Admin"]);
    expect(sessionCookieOf(validated.seen.setCookies).value).toBe(cookie.value);

    const deleted = options({ cookie: `sessionCookie=${cookie.value}` });
    const d = await client.deleteCookieSession({}, deleted.opts);
    expect(d.message).toBe(MSG.deleted);
    expectExpiredCookie(sessionCookieOf(deleted.seen.setCookies), { secure: true });

    await failure(client.validateCookieSession({}, { headers: { cookie: `sessionCookie=${cookie.value}` } }), Code.FailedPrecondition, MSG.cookieExpired);
  });

  test("the documented failures carry the documented messages", async () => {
    await failure(client.createCookieSession({ userId: "" }, { headers: api() }), Code.InvalidArgument, MSG.userIdRequired);
    await failure(client.createCookieSession({ userId: "bad user!" }, { headers: api() }), Code.InvalidArgument, MSG.requestError);
    await failure(client.validateCookieSession({}), Code.InvalidArgument, MSG.cookieRequired);
    await failure(
      client.validateCookieSession({}, { headers: { cookie: `sessionCookie=${randomBytes(32).toString("base64url")}` } }),
      Code.FailedPrecondition,
      MSG.cookieExpired,
    );
    await failure(client.deleteCookieSession({}), Code.InvalidArgument, MSG.cookieRequired);
    await failure(client.deleteCookieSession({}, { headers: { cookie: "sessionCookie=" } }), Code.InvalidArgument, MSG.sessionIdRequired);
    await failure(
      client.deleteCookieSession({}, { headers: { cookie: `sessionCookie=${randomBytes(32).toString("base64url")}` } }),
      Code.FailedPrecondition,
      MSG.cookieExpired,
    );
  });

  test("create without API client credentials is UNAUTHENTICATED", async () => {
    const error = await client.createCookieSession({ userId: SAMPLE_USER_ID }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(Code[(error as ConnectError).code]).toBe("Unauthenticated");
    const wrong = await client
      .createCookieSession({ userId: SAMPLE_USER_ID }, { headers: { clientid: t.clientA.id, clientsecret: "nope" } })
      .then(() => undefined, (e: unknown) => e);
    expect(Code[(wrong as ConnectError).code]).toBe("Unauthenticated");
  });

  test("email and role are empty strings when not given", async () => {
    const created = options(api());
    const userId = uid();
    await client.createCookieSession({ userId }, created.opts);
    const token = sessionCookieOf(created.seen.setCookies).value;
    const v = await client.validateCookieSession({}, { headers: { cookie: `sessionCookie=${token}` } });
    expect(v.data).toBeDefined();
    expect([v.data!.email, v.data!.userId, v.data!.role]).toEqual(["", userId, ""]);
  });
});
