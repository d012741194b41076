/**
 * The per-user session limit (MAX_SESSIONS_PER_USER) holds under concurrent
 * creates, refuses with RESOURCE_EXHAUSTED / 429 and a message that says what
 * to do, and with EVICT_OLDEST_AT_LIMIT makes room by ending the oldest one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

const LIMIT = 10;

async function save(t: TestApp, client: TestClient, userId: string, token?: string) {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...client.headers, "content-type": "application/json" },
    body: JSON.stringify(token === undefined ? { user_id: userId } : { user_id: userId, token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listTotal(t: TestApp, client: TestClient, userId?: string): Promise<{ total: number; ids: string[] }> {
  const query = userId === undefined ? "?limit=100" : `?limit=100&user_id=${userId}`;
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage${query}`, { headers: client.headers });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { id: string }[]; pagination: { total: number } };
  return { total: body.pagination.total, ids: body.data.map((s) => s.id) };
}

async function currentByBearer(t: TestApp, token: string) {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage/current`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe(`MAX_SESSIONS_PER_USER=${LIMIT}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_SESSIONS_PER_USER: String(LIMIT) });
  });
  afterAll(async () => t?.close());

  it("60 concurrent saves for one user: exactly 10 succeed, 50 get 429 telling the caller to delete sessions", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => save(t, t.clientA, "usr_flood")));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(LIMIT);
    expect(refused).toHaveLength(60 - LIMIT);
    for (const r of refused) {
      expect(r.body.code).toBe("resource_exhausted");
      expect(r.body.message).toMatch(/delete/i);
      expect(r.body.message).toContain("usr_flood");
      expect(r.body.message).toContain(String(LIMIT));
    }

    const listed = await listTotal(t, t.clientA, "usr_flood");
    expect(listed.total).toBe(LIMIT);
    expect(listed.ids.sort()).toEqual(ok.map((r) => r.body.id as string).sort());
    // The tenant-wide list counts only what was stored.
    expect((await listTotal(t, t.clientA)).total).toBe(LIMIT);
    // Every stored session is usable; no refused one left a trace.
    for (const r of ok) expect((await currentByBearer(t, r.body.token as string)).status).toBe(200);
    expect(await t.redis.zcard(redisKeys.userIndex(t.clientA.id, "usr_flood"))).toBe(LIMIT);
  });

  it("another user of the same tenant, and the same user id in another tenant, are unaffected", async () => {
    const other = await save(t, t.clientA, "usr_other");
    expect(other.status).toBe(200);
    const otherTenant = await Promise.all(Array.from({ length: LIMIT }, () => save(t, t.clientB, "usr_flood")));
    expect(otherTenant.map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
    expect((await save(t, t.clientA, "usr_flood")).status).toBe(429);
  });

  it("the limit answers RESOURCE_EXHAUSTED over gRPC too", async () => {
    const client = createClient(SessionStorageService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const err = await client
      .saveSession({ userId: "usr_flood" }, { headers: { clientid: t.clientA.id, clientsecret: t.clientA.secret } })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/delete/i);
  });

  it("deleting a session makes room for exactly one more", async () => {
    const { ids } = await listTotal(t, t.clientA, "usr_flood");
    const del = await fetch(`${t.baseUrl}/api/v1/session-storage/${ids[0]}`, { method: "DELETE", headers: t.clientA.headers });
    expect(del.status).toBe(200);
    const results = await Promise.all(Array.from({ length: 5 }, () => save(t, t.clientA, "usr_flood")));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 429)).toHaveLength(4);
    expect((await listTotal(t, t.clientA, "usr_flood")).total).toBe(LIMIT);
  });

  it("sessions past their expiry do not count against the limit", async () => {
    // Ten sessions expiring in a second fill the quota, then lapse.
    const lapseAt = Date.now() + 1500;
    const soon = new Date(lapseAt).toISOString();
    const first = await Promise.all(
      Array.from({ length: LIMIT }, () =>
        fetch(`${t.baseUrl}/api/v1/session-storage`, {
          method: "POST",
          headers: { ...t.clientA.headers, "content-type": "application/json" },
          body: JSON.stringify({ user_id: "usr_lapse", expires_at: soon }),
        }).then((r) => r.status),
      ),
    );
    expect(first).toEqual(Array(LIMIT).fill(200));
    expect((await save(t, t.clientA, "usr_lapse")).status).toBe(429);
    await sleep(Math.max(0, lapseAt - Date.now()) + 150);
    expect((await save(t, t.clientA, "usr_lapse")).status).toBe(200);
    expect((await listTotal(t, t.clientA, "usr_lapse")).total).toBe(1);
  });
});

describe(`EVICT_OLDEST_AT_LIMIT=true, MAX_SESSIONS_PER_USER=${LIMIT}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_SESSIONS_PER_USER: String(LIMIT), EVICT_OLDEST_AT_LIMIT: "true" });
  });
  afterAll(async () => t?.close());

  it("the 11th save succeeds and the oldest session is gone: not listed, not found, its token dead", async () => {
    const saved: { id: string; token: string }[] = [];
    for (let i = 0; i < LIMIT; i++) {
      // The two oldest bring their own tokens (which have pointers); the rest are minted.
      const own = i < 2 ? `own-evict-${i}-${"x".repeat(32)}-${Date.now()}` : undefined;
      const r = await save(t, t.clientA, "usr_evict", own);
      expect(r.status).toBe(200);
      saved.push({ id: r.body.id as string, token: own ?? (r.body.token as string) });
      await sleep(3); // distinct creation times, so "oldest" is unambiguous
    }
    const oldest = saved[0]!;
    expect((await currentByBearer(t, oldest.token)).status).toBe(200);

    const eleventh = await save(t, t.clientA, "usr_evict");
    expect(eleventh.status).toBe(200);

    const listed = await listTotal(t, t.clientA, "usr_evict");
    expect(listed.total).toBe(LIMIT);
    expect(listed.ids).not.toContain(oldest.id);
    expect(listed.ids).toEqual([...saved.slice(1).map((s) => s.id), eleventh.body.id]);
    expect((await listTotal(t, t.clientA)).total).toBe(LIMIT);

    const gone = await fetch(`${t.baseUrl}/api/v1/session-storage/${oldest.id}`, { headers: t.clientA.headers });
    expect(gone.status).toBe(404);
    const bearer = await currentByBearer(t, oldest.token);
    expect(bearer.status).not.toBe(200);
    expect([401, 404]).toContain(bearer.status);
    expect(JSON.stringify(bearer.body)).not.toContain(oldest.token);
    const validity = await fetch(`${t.baseUrl}/api/v1/session-storage/validity`, { headers: { authorization: `Bearer ${oldest.token}` } });
    expect(((await validity.json()) as { is_valid: boolean }).is_valid).toBe(false);

    // The evicted session's token pointer is cleaned up, not left dangling.
    const hash = createKeyedHash(t.config.tokenHmacKey, "token-lookup", 16);
    expect(await t.redis.exists(redisKeys.tokenPointer(hash.digest(oldest.token)))).toBe(0);
    expect(await t.redis.exists(redisKeys.tokenPointer(hash.digest(saved[1]!.token)))).toBe(1);

    // The second oldest and the newest still work.
    expect((await currentByBearer(t, saved[1]!.token)).body.id).toBe(saved[1]!.id);
    expect((await currentByBearer(t, eleventh.body.token as string)).body.id).toBe(eleventh.body.id);
  });

  it("under 60 concurrent saves every save succeeds and exactly 10 sessions remain", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => save(t, t.clientA, "usr_evict_flood")));
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(200));
    const listed = await listTotal(t, t.clientA, "usr_evict_flood");
    expect(listed.total).toBe(LIMIT);
    let alive = 0;
    for (const r of results) if ((await currentByBearer(t, r.body.token as string)).status === 200) alive++;
    expect(alive).toBe(LIMIT);
    expect(await t.redis.zcard(redisKeys.userIndex(t.clientA.id, "usr_evict_flood"))).toBe(LIMIT);
  });
});
