// Issue 7: tokens bound to their tenant, and the hardening around them: a
// session token checked together with API client credentials is scoped to
// that tenant (002, 000 current/validity, 003, 004), JWTs name their
// audience, a token never passes to another tenant, caller tokens are
// cookie-safe, replies that carry a token are never cached, and GetAuthStatus
// always says `valid` over Connect. Real service, real Redis, real sockets.
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { ClientSessionsService } from "../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { CookieSessionService } from "../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { ConfigError, parseConfig } from "../src/config/config.js";
import { createJwtIssuer } from "../src/crypto/jwt-issuer.js";
import { checkCookieOptions, expiredSessionCookie, sessionCookie } from "../src/services/session-cookie.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { monitorDuring } from "./support/monitor-during.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

type Json = Record<string, any>;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ JWT_TEMPLATES: JSON.stringify({ org: { lifetime_seconds: 120, claims: { email: "email" } } }) });
});
afterAll(async () => t?.close());

// ---------- helpers ----------

const uid = (prefix = "usr") => `${prefix}_${randomBytes(5).toString("hex")}`;
/** A caller's token shaped like an identity provider's JWT (cookie-safe). */
const jwtLike = () => `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}.${randomBytes(24).toString("base64url")}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const grpcOf = (c: TestClient) => ({ clientid: c.id, clientsecret: c.secret });

interface Saved {
  readonly id: string;
  readonly userId: string;
  readonly token: string;
  readonly client: TestClient;
}

async function rest(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: (text === "" ? undefined : JSON.parse(text)) as Json };
}

/** Saves a session through 000: a minted token unless one is given. */
async function save(client: TestClient, token?: string, userId = uid(), user?: Json): Promise<Saved> {
  const r = await rest("POST", "/api/v1/session-storage", client.headers, { user_id: userId, ...(token ? { token } : {}), ...(user ? { user } : {}) });
  expect(r.status, r.text).toBe(200);
  return { id: r.body.id, userId, token: token ?? r.body.token, client };
}

/** The session's stored hash, read straight from Redis. */
async function stored(s: Saved): Promise<Record<string, string>> {
  return t.redis.hgetall(redisKeys.session(s.client.id, s.userId, s.id.slice(s.userId.length + 1)));
}

async function expectCode(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error, `expected ${Code[code]}`).toBeInstanceOf(ConnectError);
  expect(Code[(error as ConnectError).code]).toBe(Code[code]);
  return error as ConnectError;
}

const transports: [string, () => Transport][] = [
  ["gRPC", () => createGrpcTransport({ baseUrl: t.baseUrl })],
  ["Connect", () => createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" })],
];

/** A globex (clientB) session with a minted token and one with a caller's token. */
async function foreignSessions(): Promise<Saved[]> {
  return [await save(t.clientB, undefined, uid(), { role: "administrators" }), await save(t.clientB, jwtLike(), uid(), { role: "administrators" })];
}

// ---------- 1. tenant-scoped checks ----------

describe("a session token sent with API client credentials is scoped to that tenant", () => {
  test("002 REST: another tenant's token is the documented 401, exactly as an unknown token, and is not slid", async () => {
    for (const s of await foreignSessions()) {
      const before = await stored(s);
      await sleep(20);
      const foreign = await rest("GET", "/auth/status", { ...bearer(s.token), ...t.clientA.headers });
      expect(foreign.status).toBe(401);
      expect(foreign.text).toBe(JSON.stringify({
        success: true,
        valid: false,
        message: `Session expired or invalid [request_id: ${foreign.headers.get("x-request-id")}]`,
      }));
      const unknown = await rest("GET", "/auth/status", { ...bearer(jwtLike()), ...t.clientA.headers });
      expect(unknown.status).toBe(401);
      expect(Object.keys(foreign.body)).toEqual(Object.keys(unknown.body));
      // Never touched: last access and expiry are what they were.
      const after = await stored(s);
      expect([after.la, after.ea]).toEqual([before.la, before.ea]);

      // Its own tenant's credentials, or none at all (the documented call): valid.
      expect((await rest("GET", "/auth/status", { ...bearer(s.token), ...t.clientB.headers })).body.valid).toBe(true);
      expect((await rest("GET", "/auth/status", bearer(s.token))).body.valid).toBe(true);
    }
  });

  test.each(transports)("002 over %s: another tenant's token is valid false, and not slid", async (_name, makeTransport) => {
    const client = createClient(AuthStatusService, makeTransport());
    for (const s of await foreignSessions()) {
      const before = await stored(s);
      await sleep(20);
      const foreign = await client.getAuthStatus({}, { headers: { ...bearer(s.token), ...grpcOf(t.clientA) } });
      expect([foreign.success, foreign.valid, foreign.user]).toEqual([true, false, undefined]);
      expect((await stored(s)).la).toBe(before.la);
      expect((await client.getAuthStatus({}, { headers: { ...bearer(s.token), ...grpcOf(t.clientB) } })).valid).toBe(true);
    }
  });

  test("000 REST: current is 401 and validity is_valid false for another tenant's token; its own tenant's is answered", async () => {
    for (const s of await foreignSessions()) {
      const before = await stored(s);
      await sleep(20);
      const current = await rest("GET", "/api/v1/session-storage/current", { ...bearer(s.token), ...t.clientA.headers });
      expect(current.status).toBe(401);
      expect(current.text).not.toContain(s.token);
      const validity = await rest("GET", "/api/v1/session-storage/validity", { ...bearer(s.token), ...t.clientA.headers });
      expect(validity.status).toBe(200);
      expect(validity.body).toEqual({ is_valid: false, expires_at: null, seconds_remaining: 0 });
      expect((await stored(s)).la).toBe(before.la);

      const own = await rest("GET", "/api/v1/session-storage/current", { ...bearer(s.token), ...t.clientB.headers });
      expect(own.status).toBe(200);
      expect([own.body.id, own.body.token]).toEqual([s.id, s.token]);
    }
  });

  test.each(transports)("000 over %s: GetCurrentSession UNAUTHENTICATED, GetSessionValidity not valid", async (_name, makeTransport) => {
    const client = createClient(SessionStorageService, makeTransport());
    for (const s of await foreignSessions()) {
      const headers = { ...bearer(s.token), ...grpcOf(t.clientA) };
      await expectCode(client.getCurrentSession({}, { headers }), Code.Unauthenticated);
      expect((await client.getSessionValidity({}, { headers })).isValid).toBe(false);
      expect((await client.getCurrentSession({}, { headers: { ...bearer(s.token), ...grpcOf(t.clientB) } })).id).toBe(s.id);
    }
  });

  test("003 REST: with both, the token is the caller and the credentials its tenant; another tenant's token is 401 as an unknown one", async () => {
    for (const s of await foreignSessions()) {
      const before = await stored(s);
      await sleep(20);
      for (const action of ["", "/touch", "/end", "/remove", "/tokens", "/tokens/org"]) {
        const method = action === "" ? "GET" : "POST";
        const path = `/v1/client/sessions/${encodeURIComponent(s.id)}${action}`;
        expect((await rest(method, path, { ...bearer(s.token), ...t.clientA.headers })).status, action).toBe(401);
        expect((await rest(method, path, { ...bearer(jwtLike()), ...t.clientA.headers })).status, action).toBe(401);
      }
      const after = await stored(s);
      expect([after.st, after.la, after.ea]).toEqual(["active", before.la, before.ea]);
      const own = await rest("GET", `/v1/client/sessions/${encodeURIComponent(s.id)}`, { ...bearer(s.token), ...t.clientB.headers });
      expect(own.status).toBe(200);
      expect(own.body.response.id).toBe(s.id);
    }
  });

  test("003 REST: with both, the token's holder reaches only its own user's sessions (not the whole tenant's)", async () => {
    const mine = await save(t.clientA);
    const otherUser = await save(t.clientA);
    const both = { ...bearer(mine.token), ...t.clientA.headers };
    expect((await rest("GET", `/v1/client/sessions/${encodeURIComponent(otherUser.id)}`, both)).status).toBe(404);
    expect((await rest("GET", `/v1/client/sessions/${encodeURIComponent(mine.id)}`, both)).status).toBe(200);
    // Credentials alone still act for the whole tenant (the documented call).
    expect((await rest("GET", `/v1/client/sessions/${encodeURIComponent(otherUser.id)}`, t.clientA.headers)).status).toBe(200);
  });

  test.each(transports)("003 over %s: another tenant's token with credentials is UNAUTHENTICATED, as an unknown token", async (_name, makeTransport) => {
    const client = createClient(ClientSessionsService, makeTransport());
    for (const s of await foreignSessions()) {
      const headers = { ...bearer(s.token), ...grpcOf(t.clientA) };
      await expectCode(client.getClientSession({ sessionId: s.id }, { headers }), Code.Unauthenticated);
      await expectCode(client.touchClientSession({ sessionId: s.id }, { headers }), Code.Unauthenticated);
      await expectCode(client.createSessionToken({ sessionId: s.id }, { headers }), Code.Unauthenticated);
      await expectCode(client.getClientSession({ sessionId: s.id }, { headers: { ...bearer(jwtLike()), ...grpcOf(t.clientA) } }), Code.Unauthenticated);
      const own = await client.getClientSession({ sessionId: s.id }, { headers: { ...bearer(s.token), ...grpcOf(t.clientB) } });
      expect(own.response!.status).toBe("active");
    }
  });

  test("004 REST: another tenant's cookie is the documented expired message; delete leaves the session alone", async () => {
    const expired = "Invalid request: session cookie is expired. Please create a new session.";
    for (const s of await foreignSessions()) {
      const before = await stored(s);
      await sleep(20);
      for (const route of ["validateSession", "deleteSession"]) {
        const r = await rest("POST", `/api/session/${route}`, { Cookie: `sessionCookie=${s.token}`, ...t.clientA.headers });
        expect(r.status, route).toBe(400);
        expect(r.body).toEqual({ message: expired });
      }
      const after = await stored(s);
      expect([after.st, after.la, after.ea]).toEqual(["active", before.la, before.ea]);
      const own = await rest("POST", "/api/session/validateSession", { Cookie: `sessionCookie=${s.token}`, ...t.clientB.headers });
      expect(own.status).toBe(200);
      // No credentials: the documented call, unchanged.
      expect((await rest("POST", "/api/session/validateSession", { Cookie: `sessionCookie=${s.token}` })).status).toBe(200);
    }
  });

  test.each(transports)("004 over %s: another tenant's cookie is FAILED_PRECONDITION with the expired message", async (_name, makeTransport) => {
    const client = createClient(CookieSessionService, makeTransport());
    for (const s of await foreignSessions()) {
      const headers = { cookie: `sessionCookie=${s.token}`, ...grpcOf(t.clientA) };
      const e = await expectCode(client.validateCookieSession({}, { headers }), Code.FailedPrecondition);
      expect(e.rawMessage).toBe("Invalid request: session cookie is expired. Please create a new session.");
      await expectCode(client.deleteCookieSession({}, { headers }), Code.FailedPrecondition);
      expect((await stored(s)).st).toBe("active");
    }
  });
});

// ---------- 2. JWT audience ----------

describe("JWTs name their audience: the owning API client", () => {
  async function keys(): Promise<JSONWebKeySet> {
    return (await rest("GET", "/.well-known/jwks.json")).body as JSONWebKeySet;
  }

  test("REST tokens and tokens/{template}, by Bearer or by API client: aud is the tenant; another tenant's audience does not verify", async () => {
    const s = await save(t.clientA, undefined, uid(), { email: "ada@example.com" });
    const set = createLocalJWKSet(await keys());
    for (const [action, headers] of [["tokens", bearer(s.token)], ["tokens/org", t.clientA.headers], ["tokens", t.clientA.headers]] as const) {
      const r = await rest("POST", `/v1/client/sessions/${encodeURIComponent(s.id)}/${action}`, headers);
      expect(r.status).toBe(200);
      const { payload } = await jwtVerify(r.body.jwt, set, { issuer: t.config.jwtIssuer, audience: t.clientA.id });
      expect([payload.aud, payload.sub, payload.sid]).toEqual([t.clientA.id, s.userId, s.id]);
      await expect(jwtVerify(r.body.jwt, set, { audience: t.clientB.id })).rejects.toThrow(/aud/);
    }
  });

  test.each(transports)("over %s: CreateSessionToken's JWT has aud = tenant", async (_name, makeTransport) => {
    const s = await save(t.clientB);
    const client = createClient(ClientSessionsService, makeTransport());
    const { jwt } = await client.createSessionToken({ sessionId: s.id }, { headers: bearer(s.token) });
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(await keys()), { audience: t.clientB.id });
    expect(payload.aud).toBe(t.clientB.id);
  });

  test("the issuer never lets an extra claim replace aud, sub, sid, iss, iat or exp", async () => {
    const issuer = createJwtIssuer(t.config.jwtSigningKeys, "the-issuer");
    const forged = { aud: "other", sub: "admin", sid: "x", iss: "evil", iat: 1, exp: 9_999_999_999, mail: "m@example.com" };
    const jwt = await issuer.sign({ userId: "u1", sessionId: "u1.00000000.00000000", audience: "acme" }, 30, forged);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(await keys()), { issuer: "the-issuer", audience: "acme" });
    expect(payload).toEqual({ aud: "acme", sub: "u1", sid: "u1.00000000.00000000", iss: "the-issuer", iat: expect.any(Number), exp: payload.iat! + 30, mail: "m@example.com" });
  });

  test("a template naming a reserved claim is refused at start-up, with the claim named", () => {
    const base = {
      REDIS_URL: "redis://127.0.0.1:6379",
      API_CLIENTS: `acme:${randomBytes(24).toString("base64url")}`,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
      JWT_SIGNING_KEYS: JSON.stringify([t.config.jwtSigningKeys[0]]),
    };
    for (const claim of ["aud", "sub", "sid", "iss", "iat", "exp"]) {
      const env = { ...base, JWT_TEMPLATES: JSON.stringify({ sneaky: { claims: { mail: "email", [claim]: "email" } } }) };
      expect(() => parseConfig(env), claim).toThrow(ConfigError);
      expect(() => parseConfig(env), claim).toThrow(`template "sneaky": claim "${claim}" is set by the service`);
    }
    expect(parseConfig({ ...base, JWT_TEMPLATES: JSON.stringify({ fine: { claims: { mail: "email" } } }) }).jwtTemplates.fine).toBeDefined();
  });
});

// ---------- 3. no takeover across tenants ----------

describe("a minted token's location is sealed, but only its token hash makes it a credential", () => {
  // These tests run on an app minting format 2, whose location a holder can
  // rewrite (format 1 authenticates it); the helpers above use it meanwhile.
  let formatOne: TestApp;
  beforeAll(async () => {
    formatOne = t;
    t = await startTestApp({ TOKEN_FORMAT: "2" });
  });
  afterAll(async () => {
    await t.close();
    t = formatOne;
  });

  /** The token with its body's location replaced: the keystream comes from the token itself (format 2 XORs it). */
  function forgeLocation(own: Saved, location: string): string {
    const [secret, kid, bodyText] = own.token.split(".") as [string, string, string];
    const body = Buffer.from(bodyText, "base64url");
    const plain = (text: string) => Buffer.concat([Buffer.from(text), Buffer.alloc(body.length - text.length)]);
    const ownText = `${own.client.id}\n${own.id}`;
    expect(location.length).toBe(ownText.length);
    const forged = body.map((b, i) => b ^ plain(ownText)[i]! ^ plain(location)[i]!);
    return `${secret}.${kid}.${Buffer.from(forged).toString("base64url")}`;
  }

  test("a token forged from one's own to name another session, of its tenant or another, is refused (REST status, current and create; gRPC status) and slides nothing", async () => {
    const mine = await save(t.clientA);
    const client = createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl }));
    for (const victim of [await save(t.clientA), await save(t.clientB)]) {
      const forged = forgeLocation(mine, `${victim.client.id}\n${victim.id}`);
      const before = await stored(victim);
      await sleep(20);
      expect((await rest("GET", "/auth/status", bearer(forged))).status).toBe(401);
      expect((await rest("GET", "/auth/status", { ...bearer(forged), ...victim.client.headers })).status).toBe(401);
      expect((await rest("GET", "/api/v1/session-storage/current", bearer(forged))).status).toBe(401);
      expect((await client.getAuthStatus({}, { headers: bearer(forged) })).valid).toBe(false);
      // Decoding as a minted token, it can never be stored as a caller's token either.
      expect((await rest("POST", "/api/v1/session-storage", victim.client.headers, { user_id: uid(), token: forged })).status).toBe(409);
      const after = await stored(victim);
      expect([after.la, after.ea]).toEqual([before.la, before.ea]);
      // The real tokens are untouched.
      expect((await rest("GET", "/auth/status", bearer(victim.token))).body.valid).toBe(true);
    }
    expect((await rest("GET", "/auth/status", bearer(mine.token))).body.valid).toBe(true);
  });

  test("a forged location no session can have (braces, a colon, a bad id) is an unknown token", async () => {
    const mine = await save(t.clientA);
    const own = `${mine.client.id}\n${mine.id}`;
    const edits = [
      `{${own.slice(1)}`, // a tenant id with a brace (a Redis hash tag)
      `${own.slice(0, 3)}:${own.slice(4)}`, // a colon in the tenant id
      `${own.slice(0, own.indexOf("\n") + 1)}}${own.slice(own.indexOf("\n") + 2)}`, // a brace in the user id
      `${own.slice(0, own.indexOf("\n") + 1)} ${own.slice(own.indexOf("\n") + 2)}`, // a space in the user id
    ];
    const tenantSuffix = t.clientA.id.slice(-8);
    for (const location of edits) {
      const forged = forgeLocation(mine, location);
      const window = await monitorDuring(t.redis, async () => {
        expect((await rest("GET", "/auth/status", bearer(forged))).status, location).toBe(401);
        expect((await rest("GET", "/auth/status", { ...bearer(forged), ...t.clientA.headers })).status, location).toBe(401);
      });
      // Refused before Redis: no command named a session key of the tenant (other test files share the server).
      expect(window.filter((l) => l.args.some((a) => a.includes(tenantSuffix) && a.includes("}:s:"))), location).toEqual([]);
    }
    // The same window does see a real lookup.
    const window = await monitorDuring(t.redis, async () => {
      expect((await rest("GET", "/auth/status", bearer(mine.token))).status).toBe(200);
    });
    expect(window.filter((l) => l.args.some((a) => a.includes(tenantSuffix) && a.includes("}:s:"))).length).toBeGreaterThan(0);
  });
});

describe("a caller's token never passes to another tenant", () => {
  async function endedBy(client: TestClient, token: string, how: "end" | "remove" = "end"): Promise<Saved> {
    const s = await save(client, token, uid("bob"));
    expect((await rest("POST", `/v1/client/sessions/${encodeURIComponent(s.id)}/${how}`, client.headers)).status).toBe(200);
    return s;
  }

  test("acme stores X for bob and ends it; globex storing X is 409 ALREADY_EXISTS and X stays dead", async () => {
    const x = jwtLike();
    await endedBy(t.clientA, x);
    const takeover = await rest("POST", "/api/v1/session-storage", t.clientB.headers, { user_id: "alice", token: x, user: { role: "administrators" } });
    expect(takeover.status).toBe(409);
    expect(takeover.body.code).toBe("already_exists");
    const status = await rest("GET", "/auth/status", bearer(x));
    expect(status.status).toBe(401);
    expect(status.body.valid).toBe(false);
  });

  test("the same for a removed session, a live one, and a PUT that sets X; once acme's record is gone globex may use X", async () => {
    const removed = jwtLike();
    const r = await endedBy(t.clientA, removed, "remove");
    expect((await rest("POST", "/api/v1/session-storage", t.clientB.headers, { user_id: "alice", token: removed })).status).toBe(409);

    const live = jwtLike();
    await save(t.clientA, live);
    expect((await rest("POST", "/api/v1/session-storage", t.clientB.headers, { user_id: "alice", token: live })).status).toBe(409);

    const ended = jwtLike();
    await endedBy(t.clientA, ended);
    const mine = await save(t.clientB);
    const put = await rest("PUT", `/api/v1/session-storage/${encodeURIComponent(mine.id)}`, t.clientB.headers, { token: ended });
    expect(put.status).toBe(409);
    expect((await rest("GET", "/auth/status", bearer(ended))).status).toBe(401);

    // Deleted by its tenant: the token is free.
    expect((await rest("DELETE", `/api/v1/session-storage/${encodeURIComponent(r.id)}`, t.clientA.headers)).status).toBe(200);
    const reuse = await save(t.clientB, removed);
    expect((await rest("GET", "/auth/status", { ...bearer(removed), ...t.clientB.headers })).body.valid).toBe(true);
    expect(reuse.client).toBe(t.clientB);
  });

  test("within one tenant the rules stay: an ended session's token may be stored again", async () => {
    const x = jwtLike();
    await endedBy(t.clientA, x);
    const again = await save(t.clientA, x);
    expect((await rest("GET", "/auth/status", bearer(x))).body.valid).toBe(true);
    expect((await rest("GET", "/api/v1/session-storage/current", bearer(x))).body.id).toBe(again.id);
  });

  test.each(transports)("over %s: SaveSession with another tenant's ended token is ALREADY_EXISTS", async (_name, makeTransport) => {
    const x = jwtLike();
    await endedBy(t.clientA, x);
    const client = createClient(SessionStorageService, makeTransport());
    await expectCode(client.saveSession({ userId: "alice", token: x }, { headers: grpcOf(t.clientB) }), Code.AlreadyExists);
    const status = await createClient(AuthStatusService, makeTransport()).getAuthStatus({}, { headers: bearer(x) });
    expect(status.valid).toBe(false);
  });
});

// ---------- 5. cookie-safe tokens ----------

describe("caller tokens are cookie-safe", () => {
  const base = "A".repeat(40);
  const unsafe = [
    `${base};Domain=evil.example;Max-Age=315360000;SameSite=None`,
    `${base},other`,
    `${base}"quoted"`,
    `${base}\\slash`,
    `${base} space`,
  ];

  test("REST: a token with ; , \" \\ or a space is 400 naming the allowed characters; JWTs and base64url pass", async () => {
    for (const token of unsafe) {
      const r = await rest("POST", "/api/v1/session-storage", t.clientA.headers, { user_id: uid(), token });
      expect(r.status, token).toBe(400);
      expect(r.body.code).toBe("invalid_argument");
      expect(r.body.message).toContain("characters valid in a cookie value");
      expect(r.body.message).toContain("semicolon (;)");
      expect(r.text).not.toContain("evil.example");
    }
    const s = await save(t.clientA);
    const put = await rest("PUT", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, t.clientA.headers, { token: unsafe[0] });
    expect(put.status).toBe(400);
    for (const token of [jwtLike(), randomBytes(32).toString("base64url"), `${base}!#$%&'()*+-./:<=>?@[]^_\`{|}~`]) await save(t.clientA, token);
  });

  test.each(transports)("over %s: SaveSession with an unsafe token is INVALID_ARGUMENT", async (_name, makeTransport) => {
    const client = createClient(SessionStorageService, makeTransport());
    const e = await expectCode(client.saveSession({ userId: uid(), token: unsafe[0] }, { headers: grpcOf(t.clientA) }), Code.InvalidArgument);
    expect(e.rawMessage).toContain("printable ASCII except space");
  });

  test("the Set-Cookie builder refuses a value that is not cookie-octets, so no value adds an attribute", () => {
    const options = { secure: true, domain: undefined };
    expect(() => sessionCookie(unsafe[0]!, Date.now() + 60_000, options)).toThrow(/cookie-octets/);
    for (const token of unsafe) expect(() => sessionCookie(token, Date.now() + 60_000, options)).toThrow();
    const ok = sessionCookie(jwtLike(), Date.now() + 60_000, options);
    expect(ok.split(";").map((p) => p.trim().split("=")[0])).toEqual(["sessionCookie", "Path", "Expires", "HttpOnly", "SameSite", "Secure"]);
    expect(expiredSessionCookie(options)).toMatch(/^sessionCookie=; /);
    // The deployment's Domain cannot add attributes either.
    expect(() => checkCookieOptions({ secure: true, domain: "app.example; SameSite=None" })).toThrow(ConfigError);
    expect(() => checkCookieOptions({ secure: true, domain: ".app.example" })).not.toThrow();
  });

  test("createSession's cookie is cookie-octets with the fixed attributes; a cookie decoding to ;Domain=… is no session", async () => {
    const r = await fetch(`${t.baseUrl}/api/session/createSession`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ userID: uid() }),
    });
    expect(r.status).toBe(200);
    const [cookie] = r.headers.getSetCookie();
    const [pair, ...attributes] = cookie!.split("; ");
    expect(pair).toMatch(/^sessionCookie=[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/);
    expect(attributes.map((a) => a.split("=")[0])).toEqual(["Path", "Expires", "HttpOnly", "SameSite", "Secure"]);

    const smuggled = encodeURIComponent(`${base};Domain=evil.example;Max-Age=315360000`);
    const v = await fetch(`${t.baseUrl}/api/session/validateSession`, { method: "POST", headers: { Cookie: `sessionCookie=${smuggled}` } });
    expect(v.status).toBe(400);
    expect(v.headers.getSetCookie().join("\n")).not.toContain("evil.example");
  });
});

// ---------- 6. no-store ----------

describe("replies that carry a whole token or set the cookie are never cached", () => {
  const expectNoStore = (headers: Headers, what: string) => {
    expect(headers.get("cache-control"), what).toBe("no-store");
    expect(headers.get("pragma"), what).toBe("no-cache");
  };

  test("REST: 000 save (minted), GET {id}, current; 003 tokens; 004 createSession, validateSession, deleteSession", async () => {
    const userId = uid();
    const created = await rest("POST", "/api/v1/session-storage", t.clientA.headers, { user_id: userId });
    expectNoStore(created.headers, "save");
    const s = { id: created.body.id as string, token: created.body.token as string };
    expectNoStore((await rest("GET", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, t.clientA.headers)).headers, "get");
    expectNoStore((await rest("GET", `/api/v1/session-storage/current?user_id=${userId}`, t.clientA.headers)).headers, "current");
    expectNoStore((await rest("GET", "/api/v1/session-storage/current", bearer(s.token))).headers, "current (Bearer)");
    expectNoStore((await rest("POST", `/v1/client/sessions/${encodeURIComponent(s.id)}/tokens`, bearer(s.token))).headers, "tokens");

    const cookie = await rest("POST", "/api/session/createSession", t.clientA.headers, { userID: uid() });
    expectNoStore(cookie.headers, "createSession");
    const value = cookie.headers.getSetCookie()[0]!.split(";")[0]!;
    expectNoStore((await rest("POST", "/api/session/validateSession", { Cookie: value })).headers, "validateSession");
    expectNoStore((await rest("POST", "/api/session/deleteSession", { Cookie: value })).headers, "deleteSession");
    // The expired-cookie answer drops the cookie: not cached either.
    expectNoStore((await rest("POST", "/api/session/validateSession", { Cookie: value })).headers, "validateSession (expired)");
  });

  test("Connect: SaveSession and GetCurrentSession replies carry no-store", async () => {
    const post = (method: string, body: Json, headers: Record<string, string>) =>
      fetch(`${t.baseUrl}/sessionstorage.v1.SessionStorageService/${method}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const saved = await post("SaveSession", { userId: uid() }, t.clientA.headers);
    expect(saved.status).toBe(200);
    expectNoStore(saved.headers, "SaveSession");
    const { session } = (await saved.json()) as Json;
    expectNoStore((await post("GetCurrentSession", {}, bearer(session.token))).headers, "GetCurrentSession");
    expectNoStore((await post("GetStoredSession", { id: session.id }, t.clientA.headers)).headers, "GetStoredSession");
  });

  test("gRPC: the same headers arrive as response metadata", async () => {
    const client = createClient(SessionStorageService, createGrpcTransport({ baseUrl: t.baseUrl }));
    let header: Headers | undefined;
    await client.saveSession({ userId: uid() }, { headers: grpcOf(t.clientA), onHeader: (h) => (header = h) });
    expectNoStore(header!, "SaveSession");
  });
});

// ---------- finding 9: valid is always present over Connect ----------

describe("GetAuthStatus says valid false explicitly", () => {
  test("Connect JSON for an unknown token is OK with \"success\": true and \"valid\": false", async () => {
    const r = await fetch(`${t.baseUrl}/sessionstorage.v1.AuthStatusService/GetAuthStatus`, {
      method: "POST",
      headers: { ...bearer(jwtLike()), "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Json;
    expect(body.valid).toBe(false);
    expect(body.success).toBe(true);
    expect(body.message).toMatch(/^Session expired or invalid \[request_id: .+\]$/);
  });

  test("REST keeps the documented bodies byte for byte", async () => {
    const s = await save(t.clientA);
    const invalid = await rest("GET", "/auth/status", { ...bearer(jwtLike()), "x-request-id": "12345678" });
    expect(invalid.text).toBe('{"success":true,"valid":false,"message":"Session expired or invalid [request_id: 12345678]"}');
    const none = await rest("GET", "/auth/status", { "x-request-id": "12345678" });
    expect(none.text).toBe('{"success":false,"valid":false,"error":"No authorization token provided [request_id: 12345678]"}');
    const valid = await rest("GET", "/auth/status", bearer(s.token));
    expect(valid.text).toMatch(/^\{"success":true,"valid":true,"user":\{\},"session":\{"created_at":/);
  });

  test.each(transports)("over %s: valid is false, not absent", async (_name, makeTransport) => {
    const reply = await createClient(AuthStatusService, makeTransport()).getAuthStatus({}, { headers: bearer(jwtLike()) });
    expect(reply.valid).toBe(false);
    expect(reply.success).toBe(true);
  });
});
