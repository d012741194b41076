// The "Sessions management" document (seed 001) as tests: every documented
// endpoint over REST (fetch on a real socket) and the same operations over
// gRPC (connect-node's gRPC transport on HTTP/2), against a real Redis.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { SessionsService } from "../gen/sessionstorage/v1/sessions_service_pb.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

type Json = Record<string, unknown>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SESSION_ID = /^(.+)\.[0-9a-f]{8}\.[0-9a-f]{8}$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A session as 001 documents it: id, created_at, updated_at, expires_at, each by name and type. */
function expectSessionInfo(value: unknown, userId?: string): asserts value is Json {
  expect(value).toBeTypeOf("object");
  const s = value as Json;
  expect(s.id).toBeTypeOf("string");
  expect(s.id as string).toMatch(SESSION_ID);
  if (userId !== undefined) expect(SESSION_ID.exec(s.id as string)?.[1]).toBe(userId);
  for (const field of ["created_at", "updated_at", "expires_at"]) {
    expect(s[field], field).toBeTypeOf("string");
    expect(s[field] as string, field).toMatch(RFC3339);
    expect(Number.isFinite(Date.parse(s[field] as string)), field).toBe(true);
  }
}

const ms = (iso: unknown) => Date.parse(iso as string);

interface Saved {
  readonly id: string;
  readonly token: string;
  readonly createdAt: number;
}

/** Saves a session through the 000 face (the way sessions come to exist). */
async function save(t: TestApp, client: TestClient, userId: string, profile?: Json): Promise<Saved> {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...client.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId, ...(profile ? { user: profile } : {}) }),
  });
  const body = (await res.json()) as Json;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { id: body.id as string, token: body.token as string, createdAt: ms(body.created_at) };
}

async function saveMany(t: TestApp, client: TestClient, userId: string, n: number): Promise<Saved[]> {
  const out: Saved[] = [];
  for (let i = 0; i < n; i++) out.push(await save(t, client, userId));
  return out;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function call(t: TestApp, method: string, path: string, client?: TestClient): Promise<{ status: number; text: string; body: Json | undefined; res: Response }> {
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers: client ? client.headers : {} });
  const text = await res.text();
  let body: Json | undefined;
  try {
    body = text === "" ? undefined : (JSON.parse(text) as Json);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body, res };
}

const list = (t: TestApp, client: TestClient, params: Record<string, string | number | undefined>) =>
  call(t, "GET", `/session-storage/sessions${query(params)}`, client);
const getOne = (t: TestApp, client: TestClient, id: string) => call(t, "GET", `/session-storage/sessions/${encodeURIComponent(id)}`, client);
const del = (t: TestApp, client: TestClient, id: string) => call(t, "DELETE", `/session-storage/sessions/${encodeURIComponent(id)}`, client);
const setTtl = (t: TestApp, client: TestClient, id: string, ttl: string | number | undefined) =>
  call(t, "POST", `/session-storage/sessions/${encodeURIComponent(id)}${query({ ttl_seconds: ttl })}`, client);

/** A JSON error as the REST layer renders a gRPC status: {code, message}. */
function expectError(r: { status: number; body: Json | undefined }, status: number, code: string, message?: RegExp) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toBeDefined();
  expect(r.body!.code).toBe(code);
  expect(r.body!.message).toBeTypeOf("string");
  expect((r.body!.message as string).length).toBeGreaterThan(0);
  if (message) expect(r.body!.message as string).toMatch(message);
}

/** Walks a list to its end, returning every id in order. */
async function walk(t: TestApp, client: TestClient, params: Record<string, string | number | undefined>): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const r = await list(t, client, { ...params, page_token: token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    ids.push(...(r.body!.data as Json[]).map((s) => s.id as string));
    if (!("next_page_token" in r.body!)) return ids;
    token = r.body!.next_page_token as string;
  }
  throw new Error("walk did not end");
}

let t: TestApp;
// connect-node's gRPC transport always speaks HTTP/2 (it has no httpVersion option).
let grpc: Client<typeof SessionsService>;
let grpcStorage: Client<typeof SessionStorageService>;

beforeAll(async () => {
  t = await startTestApp();
  const transport = createGrpcTransport({ baseUrl: t.baseUrl });
  grpc = createClient(SessionsService, transport);
  grpcStorage = createClient(SessionStorageService, transport);
});
afterAll(async () => t.close());

describe("GET /session-storage/sessions (REST)", () => {
  test("lists a user's active sessions in the documented shape, ordered by creation", async () => {
    const saved = await saveMany(t, t.clientA, "test-user", 3);
    const r = await list(t, t.clientA, { user_id: "test-user" });
    expect(r.status).toBe(200);
    expect(r.res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Array.isArray(r.body!.data)).toBe(true);
    const data = r.body!.data as Json[];
    expect(data.map((s) => s.id)).toEqual(saved.map((s) => s.id));
    for (const s of data) expectSessionInfo(s, "test-user");
    // Ordered by creation datetime, oldest first.
    const created = data.map((s) => ms(s.created_at));
    expect([...created].sort((a, b) => a - b)).toEqual(created);
    // Each item is the session saved: created_at as saved, not yet updated, expiring in the future.
    data.forEach((s, i) => {
      expect(ms(s.created_at)).toBe(saved[i]!.createdAt);
      expect(ms(s.updated_at)).toBe(ms(s.created_at));
      expect(ms(s.expires_at)).toBeGreaterThan(Date.now());
    });
    // The whole list fits on one page: no next_page_token at all.
    expect("next_page_token" in r.body!).toBe(false);
  });

  test("an unknown user has an empty list, not an error", async () => {
    const r = await list(t, t.clientA, { user_id: "nobody-here" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: [] });
  });

  test("without user_id it lists the calling tenant's sessions only", async () => {
    const mine = await save(t, t.clientA, "tenant-wide-a");
    const theirs = await save(t, t.clientB, "tenant-wide-b");
    const aIds = await walk(t, t.clientA, { page_size: 100 });
    const bIds = await walk(t, t.clientB, { page_size: 100 });
    expect(aIds).toContain(mine.id);
    expect(aIds).not.toContain(theirs.id);
    expect(bIds).toContain(theirs.id);
    expect(bIds).not.toContain(mine.id);
  });

  test("default page size is 20; next_page_token is a string on a full page and absent on the last", async () => {
    const saved = await saveMany(t, t.clientA, "many-sessions", 21);
    const first = await list(t, t.clientA, { user_id: "many-sessions" });
    expect(first.status).toBe(200);
    expect((first.body!.data as Json[]).map((s) => s.id)).toEqual(saved.slice(0, 20).map((s) => s.id));
    expect(first.body!.next_page_token).toBeTypeOf("string");
    expect((first.body!.next_page_token as string).length).toBeGreaterThan(0);
    const second = await list(t, t.clientA, { user_id: "many-sessions", page_token: first.body!.next_page_token as string });
    expect(second.status).toBe(200);
    expect((second.body!.data as Json[]).map((s) => s.id)).toEqual([saved[20]!.id]);
    expect("next_page_token" in second.body!).toBe(false);
  });

  test("page_size pages exactly; a page that ends the list has no token even when full", async () => {
    const saved = await saveMany(t, t.clientA, "paged-user", 6);
    const p1 = await list(t, t.clientA, { user_id: "paged-user", page_size: 3 });
    expect((p1.body!.data as Json[]).map((s) => s.id)).toEqual(saved.slice(0, 3).map((s) => s.id));
    expect(p1.body!.next_page_token).toBeTypeOf("string");
    const p2 = await list(t, t.clientA, { user_id: "paged-user", page_size: 3, page_token: p1.body!.next_page_token as string });
    expect((p2.body!.data as Json[]).map((s) => s.id)).toEqual(saved.slice(3, 6).map((s) => s.id));
    expect("next_page_token" in p2.body!).toBe(false);
    // The maximum page size is allowed.
    const max = await list(t, t.clientA, { user_id: "paged-user", page_size: 100 });
    expect(max.status).toBe(200);
    expect((max.body!.data as Json[]).length).toBe(6);
  });

  test("a walk neither skips nor repeats surviving sessions while sessions are added and deleted between pages", async () => {
    const s = await saveMany(t, t.clientA, "walker", 8);
    const p1 = await list(t, t.clientA, { user_id: "walker", page_size: 3 });
    expect((p1.body!.data as Json[]).map((x) => x.id)).toEqual([s[0]!.id, s[1]!.id, s[2]!.id]);
    // Delete the item the cursor points at (the last shown) and one not yet shown; add one.
    expect((await del(t, t.clientA, s[2]!.id)).status).toBe(204);
    expect((await del(t, t.clientA, s[4]!.id)).status).toBe(204);
    const s8 = await save(t, t.clientA, "walker");
    const p2 = await list(t, t.clientA, { user_id: "walker", page_size: 3, page_token: p1.body!.next_page_token as string });
    expect(p2.status).toBe(200);
    expect((p2.body!.data as Json[]).map((x) => x.id)).toEqual([s[3]!.id, s[5]!.id, s[6]!.id]);
    // Delete an item already seen; add another.
    expect((await del(t, t.clientA, s[0]!.id)).status).toBe(204);
    const s9 = await save(t, t.clientA, "walker");
    const p3 = await list(t, t.clientA, { user_id: "walker", page_size: 3, page_token: p2.body!.next_page_token as string });
    expect(p3.status).toBe(200);
    expect((p3.body!.data as Json[]).map((x) => x.id)).toEqual([s[7]!.id, s8.id, s9.id]);
    expect("next_page_token" in p3.body!).toBe(false);
  });

  describe("tenant-wide walk (no user_id)", () => {
    let w: TestApp;
    beforeAll(async () => {
      w = await startTestApp();
    });
    afterAll(async () => w.close());

    test("neither skips nor repeats surviving sessions of several users while the tenant's sessions change", async () => {
      const users = ["walk-u1", "walk-u2", "walk-u3"];
      const s: Saved[] = [];
      for (let i = 0; i < 9; i++) s.push(await save(w, w.clientA, users[i % 3]!));
      // Another tenant's sessions never show up in the walk.
      await saveMany(w, w.clientB, "walk-u1", 2);
      const p1 = await list(w, w.clientA, { page_size: 4 });
      expect(p1.status).toBe(200);
      expect((p1.body!.data as Json[]).map((x) => x.id)).toEqual(s.slice(0, 4).map((x) => x.id));
      for (const x of p1.body!.data as Json[]) expectSessionInfo(x);
      expect((await del(w, w.clientA, s[3]!.id)).status).toBe(204); // the cursor's own item
      expect((await del(w, w.clientA, s[5]!.id)).status).toBe(204); // not yet seen
      const added = await save(w, w.clientA, "walk-u2");
      const p2 = await list(w, w.clientA, { page_size: 4, page_token: p1.body!.next_page_token as string });
      expect(p2.status).toBe(200);
      expect((p2.body!.data as Json[]).map((x) => x.id)).toEqual([s[4]!.id, s[6]!.id, s[7]!.id, s[8]!.id]);
      expect(p2.body!.next_page_token).toBeTypeOf("string");
      const p3 = await list(w, w.clientA, { page_size: 4, page_token: p2.body!.next_page_token as string });
      expect(p3.status).toBe(200);
      expect((p3.body!.data as Json[]).map((x) => x.id)).toEqual([added.id]);
      expect("next_page_token" in p3.body!).toBe(false);
    });
  });

  test("page_size above 100, negative or not a number is a 400", async () => {
    expectError(await list(t, t.clientA, { user_id: "test-user", page_size: 101 }), 400, "invalid_argument", /page_size/);
    expectError(await list(t, t.clientA, { page_size: 1000 }), 400, "invalid_argument", /page_size/);
    expectError(await list(t, t.clientA, { user_id: "test-user", page_size: -1 }), 400, "invalid_argument", /page_size/);
    expectError(await list(t, t.clientA, { user_id: "test-user", page_size: "ten" }), 400, "invalid_argument");
  });

  test("a forged or tampered page_token is a 400", async () => {
    await saveMany(t, t.clientA, "token-user", 3);
    const p1 = await list(t, t.clientA, { user_id: "token-user", page_size: 1 });
    const token = p1.body!.next_page_token as string;
    expect(token).toBeTypeOf("string");
    const forged = [
      "not-a-token",
      "eyJrZXkiOnsib3c4NDlmIn0=",
      Buffer.from(JSON.stringify([0, "token-user.00000000.00000000", `${t.clientA.id}/token-user`])).toString("base64url") + ".AAAA",
      // One character of the token changed, at the start, the middle and the end.
      (token[0] === "A" ? "B" : "A") + token.slice(1),
      token.slice(0, token.length >> 1) + (token[token.length >> 1] === "A" ? "B" : "A") + token.slice((token.length >> 1) + 1),
      token.slice(0, -1) + (token.at(-1) === "A" ? "B" : "A"),
      token.slice(0, -2),
      `${token}.x`,
    ];
    for (const bad of forged) {
      expectError(await list(t, t.clientA, { user_id: "token-user", page_size: 1, page_token: bad }), 400, "invalid_argument", /page_token/);
    }
  });

  test("a page_token from one list is a 400 on another user's list, the tenant-wide list, or another tenant", async () => {
    await saveMany(t, t.clientA, "scope-one", 2);
    await saveMany(t, t.clientA, "scope-two", 2);
    await saveMany(t, t.clientB, "scope-one", 2);
    const p1 = await list(t, t.clientA, { user_id: "scope-one", page_size: 1 });
    const token = p1.body!.next_page_token as string;
    expect(token).toBeTypeOf("string");
    expectError(await list(t, t.clientA, { user_id: "scope-two", page_size: 1, page_token: token }), 400, "invalid_argument", /page_token/);
    expectError(await list(t, t.clientA, { page_size: 1, page_token: token }), 400, "invalid_argument", /page_token/);
    expectError(await list(t, t.clientB, { user_id: "scope-one", page_size: 1, page_token: token }), 400, "invalid_argument", /page_token/);
    const tenantWide = await list(t, t.clientA, { page_size: 1 });
    expectError(await list(t, t.clientA, { user_id: "scope-one", page_size: 1, page_token: tenantWide.body!.next_page_token as string }), 400, "invalid_argument", /page_token/);
    // The token still works on its own list.
    expect((await list(t, t.clientA, { user_id: "scope-one", page_size: 1, page_token: token })).status).toBe(200);
  });

  test("an invalid user_id is a 400", async () => {
    expectError(await list(t, t.clientA, { user_id: "bad user" }), 400, "invalid_argument", /user_id/);
  });

  test("without valid API client credentials it is a 401", async () => {
    expectError(await call(t, "GET", "/session-storage/sessions"), 401, "unauthenticated");
    const wrong = { ...t.clientA, headers: { ClientID: t.clientA.id, ClientSecret: "wrong-secret" } };
    expectError(await list(t, wrong, {}), 401, "unauthenticated");
  });
});

describe("GET /session-storage/sessions/{session_id} (REST)", () => {
  test("returns {data: session} as documented", async () => {
    const s = await save(t, t.clientA, "58347ae0-8a5d-41cf-96d9-166b550b3335");
    const r = await getOne(t, t.clientA, s.id);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body!)).toEqual(["data"]);
    expectSessionInfo(r.body!.data, "58347ae0-8a5d-41cf-96d9-166b550b3335");
    const data = r.body!.data as Json;
    expect(data.id).toBe(s.id);
    expect(ms(data.created_at)).toBe(s.createdAt);
    expect(ms(data.expires_at)).toBeGreaterThan(Date.now());
  });

  test("ids of users with URL-significant characters work in the path, percent-encoded or not", async () => {
    const userId = "jane.doe+x=1@example.com:eu";
    const s = await save(t, t.clientA, userId);
    expect(s.id.startsWith(`${userId}.`)).toBe(true);
    const encoded = await getOne(t, t.clientA, s.id);
    expect(encoded.status).toBe(200);
    expectSessionInfo(encoded.body!.data, userId);
    const raw = await call(t, "GET", `/session-storage/sessions/${s.id}`, t.clientA);
    expect(raw.status).toBe(200);
    expect((raw.body!.data as Json).id).toBe(s.id);
    expect(((await list(t, t.clientA, { user_id: userId })).body!.data as Json[]).map((x) => x.id)).toEqual([s.id]);
    expect((await setTtl(t, t.clientA, s.id, 120)).status).toBe(204);
    expect((await del(t, t.clientA, s.id)).status).toBe(204);
    expectError(await getOne(t, t.clientA, s.id), 404, "not_found");
  });

  test("an unknown or malformed id is a 404", async () => {
    expectError(await getOne(t, t.clientA, "test-user.00000000.00000000"), 404, "not_found");
    expectError(await getOne(t, t.clientA, "no-such-id"), 404, "not_found");
  });

  test("another tenant cannot see, delete or extend the session: 404, and the session is untouched", async () => {
    const s = await save(t, t.clientA, "shared-user");
    expectError(await getOne(t, t.clientB, s.id), 404, "not_found");
    expectError(await del(t, t.clientB, s.id), 404, "not_found");
    expectError(await setTtl(t, t.clientB, s.id, 5), 404, "not_found");
    expect((await list(t, t.clientB, { user_id: "shared-user" })).body).toEqual({ data: [] });
    const still = await getOne(t, t.clientA, s.id);
    expect(still.status).toBe(200);
    expect(ms((still.body!.data as Json).expires_at)).toBeGreaterThan(Date.now() + 60_000);
  });
});

describe("DELETE /session-storage/sessions/{session_id} (REST)", () => {
  test("answers an empty 204, then the session is gone (404) everywhere", async () => {
    const s = await save(t, t.clientA, "deleter");
    const r = await del(t, t.clientA, s.id);
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
    expect(r.res.headers.get("content-length") ?? "0").toBe("0");
    expectError(await getOne(t, t.clientA, s.id), 404, "not_found");
    expect((await list(t, t.clientA, { user_id: "deleter" })).body).toEqual({ data: [] });
    expectError(await del(t, t.clientA, s.id), 404, "not_found");
    // Its token no longer authenticates either.
    const status = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(status.status).toBe(401);
  });
});

describe("POST /session-storage/sessions/{session_id}?ttl_seconds=N (REST)", () => {
  test("answers an empty 204 and the session then expires at now + N", async () => {
    const s = await save(t, t.clientA, "extender");
    for (const ttl of [600, 86_400, 60]) {
      const before = Date.now();
      const r = await setTtl(t, t.clientA, s.id, ttl);
      expect(r.status).toBe(204);
      expect(r.text).toBe("");
      const got = await getOne(t, t.clientA, s.id);
      expect(got.status).toBe(200);
      const data = got.body!.data as Json;
      expectSessionInfo(data, "extender");
      const expiresAt = ms(data.expires_at);
      expect(Math.abs(expiresAt - (before + ttl * 1000))).toBeLessThanOrEqual(2000);
      // Changing the expiry is an update.
      expect(ms(data.updated_at)).toBeGreaterThanOrEqual(before);
      expect(ms(data.created_at)).toBe(s.createdAt);
    }
  });

  test("a session whose ttl runs out is gone", async () => {
    const s = await save(t, t.clientA, "short-lived");
    expect((await setTtl(t, t.clientA, s.id, 1)).status).toBe(204);
    await sleep(1300);
    expectError(await getOne(t, t.clientA, s.id), 404, "not_found");
    expect((await list(t, t.clientA, { user_id: "short-lived" })).body).toEqual({ data: [] });
    expectError(await setTtl(t, t.clientA, s.id, 60), 404, "not_found");
  });

  test("ttl_seconds 0, negative, not a number or missing is a 400", async () => {
    const s = await save(t, t.clientA, "bad-ttl");
    expectError(await setTtl(t, t.clientA, s.id, 0), 400, "invalid_argument", /ttl_seconds/);
    expectError(await setTtl(t, t.clientA, s.id, -5), 400, "invalid_argument", /ttl_seconds/);
    expectError(await setTtl(t, t.clientA, s.id, "abc"), 400, "invalid_argument");
    expectError(await setTtl(t, t.clientA, s.id, "1.5"), 400, "invalid_argument");
    expectError(await setTtl(t, t.clientA, s.id, undefined), 400, "invalid_argument", /ttl_seconds/);
  });

  test("an unknown session is a 404", async () => {
    expectError(await setTtl(t, t.clientA, "extender.00000000.00000000", 60), 404, "not_found");
  });

  test("a bad ttl_seconds is a 400 whatever the id: checked before the session is looked up", async () => {
    for (const id of ["extender.00000000.00000000", "no-such-id"]) {
      for (const ttl of [0, -1, 31_536_001, "abc", undefined]) {
        expectError(await setTtl(t, t.clientA, id, ttl), 400, "invalid_argument");
      }
    }
    // Another tenant's session too: the answer does not depend on what exists.
    const s = await save(t, t.clientA, "bad-ttl-other-tenant");
    expectError(await setTtl(t, t.clientB, s.id, 0), 400, "invalid_argument", /ttl_seconds/);
    // The upper bound itself is accepted.
    expect((await setTtl(t, t.clientA, s.id, 31_536_000)).status).toBe(204);
  });

  describe("with a short absolute lifetime", () => {
    let c: TestApp;
    beforeAll(async () => {
      c = await startTestApp({ SESSION_MAX_LIFETIME_SECONDS: "60", SESSION_IDLE_TIMEOUT_SECONDS: "30" });
    });
    afterAll(async () => c.close());

    test("a ttl beyond the absolute lifetime is clamped to it", async () => {
      const s = await save(c, c.clientA, "clamped");
      const r = await setTtl(c, c.clientA, s.id, 3600);
      expect(r.status).toBe(204);
      const got = await getOne(c, c.clientA, s.id);
      const data = got.body!.data as Json;
      expect(ms(data.expires_at)).toBe(ms(data.created_at) + 60_000);
      // Over gRPC too.
      const transport = createGrpcTransport({ baseUrl: c.baseUrl });
      const client = createClient(SessionsService, transport);
      const s2 = await save(c, c.clientA, "clamped");
      await client.updateSessionExpiration({ sessionId: s2.id, ttlSeconds: 7200 }, { headers: c.clientA.headers });
      const info = (await client.getSession({ sessionId: s2.id }, { headers: c.clientA.headers })).data!;
      expect(timestampDate(info.expiresAt!).getTime()).toBe(timestampDate(info.createdAt!).getTime() + 60_000);
    });
  });
});

describe("per-user session limit", () => {
  let l: TestApp;
  beforeAll(async () => {
    l = await startTestApp({ MAX_SESSIONS_PER_USER: "3" });
  });
  afterAll(async () => l.close());

  test("saving past the limit is a 429 telling the caller to delete sessions; deleting one makes room", async () => {
    const saved = await saveMany(l, l.clientA, "limited", 3);
    const res = await fetch(`${l.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...l.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "limited" }),
    });
    const body = (await res.json()) as Json;
    expectError({ status: res.status, body }, 429, "resource_exhausted", /delete sessions you no longer use/i);
    expect(body.message as string).toMatch(/DELETE \/session-storage\/sessions\/\{session_id\}/);
    // Other users and other tenants have their own limits.
    await save(l, l.clientA, "limited-other");
    await save(l, l.clientB, "limited");
    // Deleting a session (as the document asks) makes room for one more.
    expect((await del(l, l.clientA, saved[0]!.id)).status).toBe(204);
    await save(l, l.clientA, "limited");
    const listed = await list(l, l.clientA, { user_id: "limited" });
    expect((listed.body!.data as Json[]).length).toBe(3);
  });

  test("an expired session does not count against the limit", async () => {
    const saved = await saveMany(l, l.clientA, "limited-expiring", 3);
    expect((await setTtl(l, l.clientA, saved[0]!.id, 1)).status).toBe(204);
    await sleep(1300);
    await save(l, l.clientA, "limited-expiring");
  });

  test("the limit holds under concurrent saves", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${l.baseUrl}/api/v1/session-storage`, {
          method: "POST",
          headers: { ...l.clientA.headers, "content-type": "application/json" },
          body: JSON.stringify({ user_id: "limited-race" }),
        }).then((r) => r.status),
      ),
    );
    expect(results.filter((s) => s === 200).length).toBe(3);
    expect(results.filter((s) => s === 429).length).toBe(7);
    expect(((await list(l, l.clientA, { user_id: "limited-race" })).body!.data as Json[]).length).toBe(3);
  });

  test("over gRPC the save is RESOURCE_EXHAUSTED with the same advice", async () => {
    const client = createClient(SessionStorageService, createGrpcTransport({ baseUrl: l.baseUrl }));
    for (let i = 0; i < 3; i++) await client.saveSession({ userId: "limited-grpc" }, { headers: l.clientA.headers });
    const err = await client.saveSession({ userId: "limited-grpc" }, { headers: l.clientA.headers }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(/delete sessions you no longer use/i);
  });
});

describe("per-user limit with EVICT_OLDEST_AT_LIMIT", () => {
  let e: TestApp;
  beforeAll(async () => {
    e = await startTestApp({ MAX_SESSIONS_PER_USER: "3", EVICT_OLDEST_AT_LIMIT: "true" });
  });
  afterAll(async () => e.close());

  test("saving past the limit evicts the oldest session instead of refusing", async () => {
    const saved = await saveMany(e, e.clientA, "evicting", 4);
    const ids = ((await list(e, e.clientA, { user_id: "evicting" })).body!.data as Json[]).map((s) => s.id);
    expect(ids).toEqual(saved.slice(1).map((s) => s.id));
    expectError(await getOne(e, e.clientA, saved[0]!.id), 404, "not_found");
    const status = await fetch(`${e.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${saved[0]!.token}` } });
    expect(status.status).toBe(401);
    expect(await walk(e, e.clientA, {})).toEqual(saved.slice(1).map((s) => s.id));
  });
});

describe("the same operations over gRPC", () => {
  const grpcError = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

  test("ListSessions pages with next_page_token, unset on the last page", async () => {
    const saved = await saveMany(t, t.clientA, "grpc-lister", 3);
    const p1 = await grpc.listSessions({ userId: "grpc-lister", pageSize: 2 }, { headers: t.clientA.headers });
    expect(p1.data.map((s) => s.id)).toEqual(saved.slice(0, 2).map((s) => s.id));
    for (const s of p1.data) {
      expect(s.createdAt).toBeDefined();
      expect(s.updatedAt).toBeDefined();
      expect(s.expiresAt).toBeDefined();
    }
    expect(p1.nextPageToken).toBeTypeOf("string");
    const p2 = await grpc.listSessions({ userId: "grpc-lister", pageSize: 2, pageToken: p1.nextPageToken! }, { headers: t.clientA.headers });
    expect(p2.data.map((s) => s.id)).toEqual([saved[2]!.id]);
    expect(p2.nextPageToken).toBeUndefined();
    // A page token from REST and one from gRPC are the same thing.
    const rest = await list(t, t.clientA, { user_id: "grpc-lister", page_size: 2, page_token: p1.nextPageToken! });
    expect((rest.body!.data as Json[]).map((s) => s.id)).toEqual([saved[2]!.id]);
  });

  test("ListSessions: bad page size or page token is INVALID_ARGUMENT; no credentials is UNAUTHENTICATED", async () => {
    expect((await grpcError(grpc.listSessions({ pageSize: 101 }, { headers: t.clientA.headers })))?.code).toBe(Code.InvalidArgument);
    expect((await grpcError(grpc.listSessions({ pageSize: -1 }, { headers: t.clientA.headers })))?.code).toBe(Code.InvalidArgument);
    const forged = await grpcError(grpc.listSessions({ pageToken: "forged" }, { headers: t.clientA.headers }));
    expect(forged?.code).toBe(Code.InvalidArgument);
    expect(forged?.rawMessage).toMatch(/page_token/);
    expect((await grpcError(grpc.listSessions({})))?.code).toBe(Code.Unauthenticated);
  });

  test("GetSession, UpdateSessionExpiration and DeleteSession, with NOT_FOUND and INVALID_ARGUMENT", async () => {
    const s = await save(t, t.clientA, "grpc-user");
    const got = await grpc.getSession({ sessionId: s.id }, { headers: t.clientA.headers });
    expect(got.data?.id).toBe(s.id);
    expect(timestampDate(got.data!.createdAt!).getTime()).toBe(s.createdAt);

    const before = Date.now();
    await grpc.updateSessionExpiration({ sessionId: s.id, ttlSeconds: 300 }, { headers: t.clientA.headers });
    const extended = await grpc.getSession({ sessionId: s.id }, { headers: t.clientA.headers });
    expect(Math.abs(timestampDate(extended.data!.expiresAt!).getTime() - (before + 300_000))).toBeLessThanOrEqual(2000);

    for (const ttlSeconds of [0, -1]) {
      const err = await grpcError(grpc.updateSessionExpiration({ sessionId: s.id, ttlSeconds }, { headers: t.clientA.headers }));
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/ttl_seconds/);
    }
    expect((await grpcError(grpc.updateSessionExpiration({ sessionId: "grpc-user.00000000.00000000", ttlSeconds: 60 }, { headers: t.clientA.headers })))?.code).toBe(Code.NotFound);

    // Another tenant: NOT_FOUND for every operation.
    expect((await grpcError(grpc.getSession({ sessionId: s.id }, { headers: t.clientB.headers })))?.code).toBe(Code.NotFound);
    expect((await grpcError(grpc.deleteSession({ sessionId: s.id }, { headers: t.clientB.headers })))?.code).toBe(Code.NotFound);
    expect((await grpcError(grpc.updateSessionExpiration({ sessionId: s.id, ttlSeconds: 60 }, { headers: t.clientB.headers })))?.code).toBe(Code.NotFound);

    await grpc.deleteSession({ sessionId: s.id }, { headers: t.clientA.headers });
    expect((await grpcError(grpc.getSession({ sessionId: s.id }, { headers: t.clientA.headers })))?.code).toBe(Code.NotFound);
    expect((await grpcError(grpc.deleteSession({ sessionId: s.id }, { headers: t.clientA.headers })))?.code).toBe(Code.NotFound);
  });

  test("SaveSession over gRPC creates a session that the sessions face lists", async () => {
    const saved = await grpcStorage.saveSession({ userId: "grpc-saved" }, { headers: t.clientA.headers });
    const page = await grpc.listSessions({ userId: "grpc-saved" }, { headers: t.clientA.headers });
    expect(page.data.map((s) => s.id)).toEqual([saved.session!.id]);
  });
});

describe("decisions where the documents are silent", () => {
  test("ttl_seconds fixes the expiry: later activity on the token does not undo a shorter ttl", async () => {
    const s = await save(t, t.clientA, "ttl-fixed-user");
    expect((await setTtl(t, t.clientA, s.id, 60)).status).toBe(204);
    const status = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(status.status).toBe(200);
    const after = await getOne(t, t.clientA, s.id);
    const expiresAt = ms((after.body!.data as Json).expires_at);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
    expect(expiresAt).toBeGreaterThan(Date.now() + 55_000);
  });

  test.each([
    ["end", "ended"],
    ["remove", "removed"],
  ])("after client sessions /%s the session is gone from this API: get, ttl and delete are 404", async (action, status) => {
    const s = await save(t, t.clientA, `${status}-in-001-user`);
    const ended = await fetch(`${t.baseUrl}/v1/client/sessions/${encodeURIComponent(s.id)}/${action}`, { method: "POST", headers: t.clientA.headers });
    expect(ended.status).toBe(200);
    expectError(await getOne(t, t.clientA, s.id), 404, "not_found");
    expectError(await setTtl(t, t.clientA, s.id, 60), 404, "not_found");
    expectError(await del(t, t.clientA, s.id), 404, "not_found");
    // A bad ttl is still a 400, before the lookup.
    expectError(await setTtl(t, t.clientA, s.id, 0), 400, "invalid_argument");
    const listed = await list(t, t.clientA, { user_id: `${status}-in-001-user` });
    expect(listed.body!.data).toEqual([]);
    // Over gRPC: the same NOT_FOUND.
    const error = await grpc.deleteSession({ sessionId: s.id }, { headers: t.clientA.headers }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });
});
