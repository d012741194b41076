import http from "node:http";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// Races and bookkeeping between the per-user scripts and the secondary
// indexes (token pointers, tenant index), through the real REST surface.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MAX_SESSIONS_PER_USER: "1000" });
});
afterAll(async () => t.close());

const json = { "content-type": "application/json" };
const save = (client: { headers: Record<string, string> }, body: Record<string, unknown>) =>
  fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "POST", headers: { ...client.headers, ...json }, body: JSON.stringify(body) });
const status = (token: string) => fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });

test("clear all racing with creates leaves no session unreachable: whatever survives is listed and cleared next time", async () => {
  const creates = Array.from({ length: 40 }, (_, i) => save(t.clientB, { user_id: `race-user-${i % 7}` }));
  const cleared = fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "DELETE", headers: t.clientB.headers });
  const results = await Promise.all(creates);
  expect((await cleared).status).toBe(200);
  const tokens = await Promise.all(results.map(async (r) => ((await r.json()) as { token: string }).token));
  const alive = (await Promise.all(tokens.map(async (tok) => (await status(tok)).status === 200))).filter(Boolean).length;
  const list = (await (await fetch(`${t.baseUrl}/api/v1/session-storage?limit=100`, { headers: t.clientB.headers })).json()) as { pagination: { total: number } };
  expect(list.pagination.total).toBe(alive);
  const second = (await (await fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "DELETE", headers: t.clientB.headers })).json()) as { deleted_count: number };
  expect(second.deleted_count).toBe(alive);
  for (const tok of tokens) expect((await status(tok)).status).toBe(401);
});

test("the same token saved at once by two tenants and one tenant twice: exactly one session holds it", async () => {
  const token = `shared-${randomBytes(24).toString("hex")}`;
  const results = await Promise.all([
    save(t.clientA, { user_id: "same-token-a", token }),
    save(t.clientB, { user_id: "same-token-b", token }),
    save(t.clientA, { user_id: "same-token-c", token }),
  ]);
  const statuses = results.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 409, 409]);
  const winner = await results.find((r) => r.status === 200)!.json() as { user_id: string };
  const seen = (await (await status(token)).json()) as { valid: boolean };
  expect(seen.valid).toBe(true);
  // The Bearer reaches the winner's session, not another.
  const current = (await (await fetch(`${t.baseUrl}/api/v1/session-storage/current`, { headers: { authorization: `Bearer ${token}` } })).json()) as { user_id: string };
  expect(current.user_id).toBe(winner.user_id);
});

test("a token freed by deleting its session can be stored again", async () => {
  const token = `reused-${randomBytes(24).toString("hex")}`;
  const first = (await (await save(t.clientA, { user_id: "reuse-user", token })).json()) as { id: string };
  expect((await save(t.clientA, { user_id: "reuse-user", token })).status).toBe(409);
  await fetch(`${t.baseUrl}/api/v1/session-storage/${first.id}`, { method: "DELETE", headers: t.clientA.headers });
  expect((await save(t.clientA, { user_id: "reuse-user", token })).status).toBe(200);
});

test("current falls back to the most recently saved or touched live session, not the newest created", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(((await (await save(t.clientA, { user_id: "recency-user" })).json()) as { id: string }).id);
    await new Promise((r) => setTimeout(r, 5));
  }
  const touch = (id: string) => fetch(`${t.baseUrl}/v1/client/sessions/${id}/touch`, { method: "POST", headers: t.clientA.headers });
  expect((await touch(ids[0]!)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 5));
  expect((await touch(ids[2]!)).status).toBe(200);
  const currentId = async () =>
    ((await (await fetch(`${t.baseUrl}/api/v1/session-storage/current?user_id=recency-user`, { headers: t.clientA.headers })).json()) as { id: string }).id;
  expect(await currentId()).toBe(ids[2]);
  await fetch(`${t.baseUrl}/api/v1/session-storage/${ids[2]}`, { method: "DELETE", headers: t.clientA.headers });
  expect(await currentId()).toBe(ids[0]);
});

const lookupHash = (token: string) => createKeyedHash(t.config.tokenHmacKey, "token-lookup", 16).digest(token);
const suffix = (id: string) => id.slice(-17);

test("a caller token's pointer lives exactly as long as its session, and moves with it", async () => {
  const token = `own-${randomBytes(24).toString("hex")}`;
  const saved = (await (await save(t.clientA, { user_id: "pointer-user", token })).json()) as { id: string };
  const pointer = redisKeys.tokenPointer(lookupHash(token));
  const sessionKey = redisKeys.session(t.clientA.id, "pointer-user", suffix(saved.id));
  const expiries = async () => [await t.redis.pexpiretime(pointer), await t.redis.pexpiretime(sessionKey)];
  let [p, s] = await expiries();
  expect(p).toBe(s);
  expect(p).toBeLessThanOrEqual(Date.now() + t.config.idleTimeoutSeconds * 1000);
  await fetch(`${t.baseUrl}/session-storage/sessions/${saved.id}?ttl_seconds=60`, { method: "POST", headers: t.clientA.headers });
  [p, s] = await expiries();
  expect(p).toBe(s);
  expect(s).toBeLessThanOrEqual(Date.now() + 60_000);
});

test("a tenant index entry of a create still in flight survives lists and clear-all; an old orphan is dropped", async () => {
  const inFlight = "inflight-user.0123abcd.4567ef01";
  const orphan = "orphan-user.89abcdef.01234567";
  const inFlightBucket = redisKeys.tenantBucketOf(t.clientA.id, "inflight-user");
  const orphanBucket = redisKeys.tenantBucketOf(t.clientA.id, "orphan-user");
  await t.redis.zadd(inFlightBucket, Date.now(), inFlight);
  await t.redis.zadd(orphanBucket, Date.now() - 5 * 60_000, orphan);
  expect((await fetch(`${t.baseUrl}/api/v1/session-storage?limit=100`, { headers: t.clientA.headers })).status).toBe(200);
  expect(await t.redis.zscore(inFlightBucket, inFlight)).not.toBeNull();
  expect(await t.redis.zscore(orphanBucket, orphan)).toBeNull();
  expect((await fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "DELETE", headers: t.clientA.headers })).status).toBe(200);
  expect(await t.redis.zscore(inFlightBucket, inFlight)).not.toBeNull();
  await t.redis.zrem(inFlightBucket, inFlight);
});

test("a refused PUT with the session's own token leaves that token's pointer alone", async () => {
  const token = `own-${randomBytes(24).toString("hex")}`;
  const saved = { ...((await (await save(t.clientA, { user_id: "put-own-token-user", token })).json()) as { id: string }), token };
  const pointer = redisKeys.tokenPointer(lookupHash(saved.token));
  const ended = await fetch(`${t.baseUrl}/v1/client/sessions/${saved.id}/end`, { method: "POST", headers: t.clientA.headers });
  expect(ended.status).toBe(200);
  const put = await fetch(`${t.baseUrl}/api/v1/session-storage/${saved.id}`, {
    method: "PUT",
    headers: { ...t.clientA.headers, ...json },
    body: JSON.stringify({ token: saved.token }),
  });
  expect(put.status).toBe(400);
  expect(await t.redis.exists(pointer)).toBe(1);
});

test("a path starting with // is a path, not a host", async () => {
  // node:http sends the path exactly as given (fetch might normalise it).
  const status = await new Promise<number>((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: t.port, path: "//x/api/v1/session-storage", headers: t.clientA.headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on("error", reject);
  });
  expect(status).toBe(404);
});

test("a session JWT never outlives its session", async () => {
  const expiresAt = new Date(Date.now() + 20_000).toISOString();
  const saved = (await (await save(t.clientA, { user_id: "short-jwt-user", expires_at: expiresAt })).json()) as { id: string; token: string };
  const res = await fetch(`${t.baseUrl}/v1/client/sessions/${saved.id}/tokens`, { method: "POST", headers: { authorization: `Bearer ${saved.token}` } });
  expect(res.status).toBe(200);
  const { jwt } = (await res.json()) as { jwt: string };
  const claims = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as { exp: number };
  expect(claims.exp * 1000).toBeLessThanOrEqual(Date.parse(expiresAt) + 1000);
});

test("200 concurrent PUTs rotating one session's token leave exactly one pointer, the current token's; a stale token is 401 and free again", async () => {
  const first = `rot-${randomBytes(24).toString("hex")}`;
  const saved = (await (await save(t.clientA, { user_id: "rotate-user", token: first })).json()) as { id: string };
  const sessionKey = redisKeys.session(t.clientA.id, "rotate-user", suffix(saved.id));
  const tokens = Array.from({ length: 200 }, (_, i) => `rot-${i}-${randomBytes(24).toString("hex")}`);
  const results = await Promise.all(tokens.map((token) =>
    fetch(`${t.baseUrl}/api/v1/session-storage/${saved.id}`, {
      method: "PUT",
      headers: { ...t.clientA.headers, ...json },
      body: JSON.stringify({ token }),
    }),
  ));
  expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  // Exactly one pointer names the session: the one of the token it holds now.
  const pointers: string[] = [];
  for (const token of [first, ...tokens]) {
    const value = await t.redis.get(redisKeys.tokenPointer(lookupHash(token)));
    if (value !== null && value.split(" ")[0] === sessionKey) pointers.push(token);
  }
  expect(pointers).toHaveLength(1);
  const current = pointers[0]!;
  expect(await t.redis.hget(sessionKey, "th")).toBe(lookupHash(current));
  expect((await status(current)).status).toBe(200);
  const stale = tokens.find((tok) => tok !== current)!;
  expect((await status(stale)).status).toBe(401);
  expect((await status(first)).status).toBe(401);
  // A stale token can be stored again, by another session.
  expect((await save(t.clientA, { user_id: "rotate-other", token: stale })).status).toBe(200);
  expect((await save(t.clientA, { user_id: "rotate-other", token: first })).status).toBe(200);
  expect((await save(t.clientA, { user_id: "rotate-other", token: current })).status).toBe(409);
});
