// Sign out everywhere: an API client revokes all of a user's sessions in one
// call, and a session holder ends all of its user's other sessions, over
// REST and RPC. Revoked and ended tokens stop authenticating at once: Bearer,
// cookie API and JWT minting. Both produce events.
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SignOutService } from "../gen/sessionstorage/v1/sign_out_service_pb.js";
import { openSse } from "./support/event-consumers.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

type Json = Record<string, any>;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = () => `so-${randomBytes(4).toString("hex")}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const callerToken = () => `eyJhbGciOiJFUzI1NiJ9.${randomBytes(24).toString("base64url")}`;

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
}

/** A user with three sessions: a minted token, a caller's token and a cookie session. */
async function userWithSessions(headers = t.clientA.headers) {
  const userId = uid();
  const minted = await call("POST", "/api/v1/session-storage", headers, { user_id: userId });
  expect(minted.status).toBe(200);
  const own = callerToken();
  const caller = await call("POST", "/api/v1/session-storage", headers, { user_id: userId, token: own });
  expect(caller.status).toBe(200);
  const cookieRes = await call("POST", "/api/session/createSession", headers, { userID: userId, email: "a@b.test", role: "User" });
  expect(cookieRes.status).toBe(200);
  const cookie = cookieRes.headers.getSetCookie().map((c) => /^sessionCookie=([^;]*)/.exec(c)?.[1]).find(Boolean)!;
  // A cookie is a session token too: its own session names it.
  const cookieSessionId = (await call("GET", "/api/v1/session-storage/current", bearer(cookie))).body.id as string;
  expect(cookieSessionId.startsWith(`${userId}.`)).toBe(true);
  return {
    userId,
    sessions: [
      { id: minted.body.id as string, token: minted.body.token as string },
      { id: caller.body.id as string, token: own },
      { id: cookieSessionId, token: cookie },
    ],
  };
}

/** Whether a token still works anywhere: auth status, the cookie API and JWT minting each say. */
async function stillWorks(session: { id: string; token: string }) {
  const status = await call("GET", "/auth/status", bearer(session.token));
  const cookie = await call("POST", "/api/session/validateSession", { cookie: `sessionCookie=${session.token}` });
  const jwt = await call("POST", `/v1/client/sessions/${session.id}/tokens`, bearer(session.token));
  return { status: status.status, cookie: cookie.status, jwt: jwt.status };
}
const works = { status: 200, cookie: 200, jwt: 200 };
const refused = { status: 401, cookie: 400, jwt: 401 };

describe("an API client revokes all of a user's sessions (REST)", () => {
  test("one call revokes every live session; every token stops working at once, everywhere", async () => {
    const { userId, sessions } = await userWithSessions();
    const other = await userWithSessions();
    for (const s of sessions) expect(await stillWorks(s)).toEqual(works);
    const res = await call("POST", `/session-storage/users/${userId}/revoke`, t.clientA.headers, { reason: "stolen laptop" });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["revoked_count", "session_ids"]);
    expect(res.body.revoked_count).toBe(3);
    expect(typeof res.body.revoked_count).toBe("number");
    expect([...res.body.session_ids].sort()).toEqual(sessions.map((s) => s.id).sort());
    for (const s of sessions) expect(await stillWorks(s)).toEqual(refused);
    // Their status reads revoked; another user is untouched.
    const seen = await call("GET", `/v1/client/sessions/${sessions[0]!.id}`, t.clientA.headers);
    expect(seen.body.response.status).toBe("revoked");
    for (const s of other.sessions) expect((await call("GET", "/auth/status", bearer(s.token))).status).toBe(200);
    // A second call finds nothing left to revoke: no session ids, and the count is 0 (omitted as proto JSON's default).
    const again = await call("POST", `/session-storage/users/${userId}/revoke`, t.clientA.headers, {});
    expect(again.status).toBe(200);
    expect(again.body.revoked_count ?? 0).toBe(0);
    expect(again.body.session_ids ?? []).toEqual([]);
  });

  test("new sessions after a revoke work; the revoke is not a ban", async () => {
    const { userId } = await userWithSessions();
    expect((await call("POST", `/session-storage/users/${userId}/revoke`, t.clientA.headers, {})).status).toBe(200);
    const fresh = await call("POST", "/api/v1/session-storage", t.clientA.headers, { user_id: userId });
    expect((await call("GET", "/auth/status", bearer(fresh.body.token))).status).toBe(200);
  });

  test("another tenant revokes nothing of this one's; credentials are required; a bad reason is 400", async () => {
    const { userId, sessions } = await userWithSessions();
    const foreign = await call("POST", `/session-storage/users/${userId}/revoke`, t.clientB.headers, {});
    expect(foreign.status).toBe(200);
    expect(foreign.body.revoked_count ?? 0).toBe(0);
    expect((await call("GET", "/auth/status", bearer(sessions[0]!.token))).status).toBe(200);
    const none = await call("POST", `/session-storage/users/${userId}/revoke`, {}, {});
    expect(none.status).toBe(401);
    expect(none.body.code).toBe("unauthenticated");
    const holder = await call("POST", `/session-storage/users/${userId}/revoke`, bearer(sessions[0]!.token), {});
    expect(holder.status).toBe(401);
    const long = await call("POST", `/session-storage/users/${userId}/revoke`, t.clientA.headers, { reason: "x".repeat(201) });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe("invalid_argument");
    const badUser = await call("POST", `/session-storage/users/${encodeURIComponent("{bad}")}/revoke`, t.clientA.headers, {});
    expect(badUser.status).toBe(400);
    expect((await call("GET", "/auth/status", bearer(sessions[1]!.token))).status).toBe(200);
  });
});

describe("over RPC", () => {
  test("RevokeUserSessions over gRPC, EndOtherSessions over Connect", async () => {
    const grpc = createClient(SignOutService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const connect = createClient(SignOutService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    const a = await userWithSessions();
    const revoked = await grpc.revokeUserSessions({ userId: a.userId, reason: "password changed" }, { headers: t.clientA.headers });
    expect(revoked.revokedCount).toBe(3);
    expect([...revoked.sessionIds].sort()).toEqual(a.sessions.map((s) => s.id).sort());
    for (const s of a.sessions) expect(await stillWorks(s)).toEqual(refused);
    const b = await userWithSessions();
    const [keep, ...others] = b.sessions;
    const ended = await connect.endOtherSessions({ sessionId: keep!.id }, { headers: bearer(keep!.token) });
    expect(ended.endedCount).toBe(2);
    expect([...ended.sessionIds].sort()).toEqual(others.map((s) => s.id).sort());
    expect(await stillWorks(keep!)).toEqual(works);
    for (const s of others) expect(await stillWorks(s)).toEqual(refused);
    const unauthenticated = await grpc.revokeUserSessions({ userId: a.userId }).catch((e: unknown) => e);
    expect(unauthenticated).toBeInstanceOf(ConnectError);
    expect((unauthenticated as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe("a session holder ends its user's other sessions (REST)", () => {
  test("with its Bearer token: the others end, its own stays", async () => {
    const { sessions } = await userWithSessions();
    const [keep, ...others] = sessions;
    const res = await call("POST", `/v1/client/sessions/${keep!.id}/end-others`, bearer(keep!.token));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["ended_count", "session_ids"]);
    expect(res.body.ended_count).toBe(2);
    expect([...res.body.session_ids].sort()).toEqual(others.map((s) => s.id).sort());
    expect(await stillWorks(keep!)).toEqual(works);
    for (const s of others) expect(await stillWorks(s)).toEqual(refused);
    const status = await call("GET", `/v1/client/sessions/${others[0]!.id}`, t.clientA.headers);
    expect(status.body.response.status).toBe("ended");
  });

  test("a holder may keep only its own session; an ended token is refused; an API client may name any", async () => {
    const { sessions } = await userWithSessions();
    const [a, b, c] = sessions;
    const wrong = await call("POST", `/v1/client/sessions/${b!.id}/end-others`, bearer(a!.token));
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe("permission_denied");
    expect(await stillWorks(b!)).toEqual(works);
    const byClient = await call("POST", `/v1/client/sessions/${c!.id}/end-others`, t.clientA.headers);
    expect(byClient.status).toBe(200);
    expect(byClient.body.ended_count).toBe(2);
    const late = await call("POST", `/v1/client/sessions/${a!.id}/end-others`, bearer(a!.token));
    expect(late.status).toBe(401);
    const foreign = await call("POST", `/v1/client/sessions/${c!.id}/end-others`, t.clientB.headers);
    expect(foreign.status).toBe(404);
    expect(await stillWorks(c!)).toEqual(works);
  });
});

describe("events", () => {
  test("a revoke is one revoked event per session with its reason; end-others one ended event per session", async () => {
    const sse = await openSse(t.baseUrl, t.clientA.headers, { types: "revoked,ended" });
    try {
      await sse.until((s) => s.messages.length >= 1);
      const r = await userWithSessions();
      const e = await userWithSessions();
      expect((await call("POST", `/session-storage/users/${r.userId}/revoke`, t.clientA.headers, { reason: "offboarding" })).status).toBe(200);
      expect((await call("POST", `/v1/client/sessions/${e.sessions[0]!.id}/end-others`, bearer(e.sessions[0]!.token))).status).toBe(200);
      await sse.until((s) => s.events().length >= 5);
      await sleep(400);
      const events = sse.events();
      expect(events.filter((x) => x.type === "revoked").map((x) => x.session_id).sort()).toEqual(r.sessions.map((s) => s.id).sort());
      for (const x of events.filter((y) => y.type === "revoked")) {
        expect([x.status, x.cause, x.reason, x.user_id]).toEqual(["revoked", "revoke_all", "offboarding", r.userId]);
      }
      expect(events.filter((x) => x.type === "ended").map((x) => x.session_id).sort()).toEqual(e.sessions.slice(1).map((s) => s.id).sort());
      for (const x of events.filter((y) => y.type === "ended")) expect([x.status, x.cause]).toEqual(["ended", "sign_out_others"]);
      expect(events).toHaveLength(5);
    } finally {
      sse.close();
    }
  });
});
