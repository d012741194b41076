/**
 * Secrets at rest and in logs: after real traffic (own and minted tokens,
 * reads, updates, Bearer calls, failed calls with wrong secrets), no raw
 * token is in any Redis key or value and no token or client secret is in
 * any log line. Tokens are AES-GCM ciphertext ("v1.<kid>...") and stay
 * readable across a key rotation. Long hash values are stored in chunks
 * (tk, tk1, ...), so the scans also read each chunked value joined.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster, Redis } from "ioredis";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { chunkFields, joinChunks } from "../src/store/hash-value-chunks.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { scanAllKeys } from "./support/scan-all-keys.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

const json = (c: TestClient) => ({ ...c.headers, "content-type": "application/json" });

/** A JWT-looking token, unique to this run: what an identity provider would hand a caller. */
function ownToken(label: string): string {
  const part = () => randomBytes(18).toString("base64url");
  return `eyJhbGciOiJIUzI1NiJ9.${part()}.${label}${part()}`;
}

async function rest(t: TestApp, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Every key of the Redis (SCAN, never KEYS; every primary of a Cluster) with every value, as text. */
async function dumpRedis(redis: Redis | Cluster): Promise<Map<string, string[]>> {
  const dump = new Map<string, string[]>();
  for (const key of await scanAllKeys(redis)) {
    const type = await redis.type(key);
    let values: string[];
    switch (type) {
      case "string":
        values = [(await redis.get(key)) ?? ""];
        break;
      case "hash": {
        const fields = await redis.hgetall(key);
        values = Object.entries(fields).flat();
        // A value split into chunks is also scanned whole.
        for (const name of Object.keys(fields).filter((f) => /^[a-z]+$/.test(f))) values.push(joinChunks(fields, name)!);
        break;
      }
      case "zset":
        values = await redis.zrange(key, "0", "-1", "WITHSCORES");
        break;
      case "set":
        values = await redis.smembers(key);
        break;
      case "list":
        values = await redis.lrange(key, 0, -1);
        break;
      case "none":
        continue; // expired or deleted between SCAN and TYPE
      default:
        values = [`<unexpected type ${type}>`];
    }
    dump.set(key, values);
  }
  return dump;
}

/** The Redis key of a session: by tenant, user and the id's random suffix. */
function keyOf(tenantId: string, id: string): string {
  return redisKeys.session(tenantId, id.slice(0, -18), id.slice(-17));
}

/** The sealed token of a session, its chunks joined. */
async function readSealed(redis: Redis | Cluster, key: string): Promise<string> {
  return joinChunks(await redis.hgetall(key), "tk")!;
}

/** Overwrites the sealed token of a session, chunks and all, as an attacker with Redis access could. */
async function writeSealed(redis: Redis | Cluster, key: string, sealed: string): Promise<void> {
  const stale = Object.keys(await redis.hgetall(key)).filter((f) => /^tk\d+$/.test(f));
  if (stale.length > 0) await redis.hdel(key, ...stale);
  await redis.hset(key, ...chunkFields("tk", sealed));
}

/** The unkeyed digests a careless store might use instead of an HMAC. */
function plainDigests(token: string): string[] {
  const d = createHash("sha256").update(token).digest();
  return [d.toString("hex"), d.toString("base64"), d.toString("base64url")];
}

describe("no raw token or client secret at rest or in logs", () => {
  let t: TestApp;
  /** Every token this file sent or received. */
  const tokens: string[] = [];
  const wrongSecrets = [randomBytes(24).toString("base64url"), randomBytes(24).toString("base64url")];
  const sessionIds: string[] = [];
  const mintedIds = new Set<string>();

  beforeAll(async () => {
    t = await startTestApp();
    const A = t.clientA;
    const connect = createClient(SessionStorageService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    const grpc = createClient(SessionStorageService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const md = { clientid: A.id, clientsecret: A.secret };

    // Saves: own tokens (REST, Connect, gRPC) and minted ones.
    const own1 = ownToken("rest");
    tokens.push(own1);
    const s1 = await rest(t, "POST", "/api/v1/session-storage", json(A), {
      user_id: "usr_sec1",
      token: own1,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      user: { email: "a@example.com", role: "admin" },
      metadata: { user_agent: "vitest", ip_address: "127.0.0.1", labels: { app: "security" } },
    });
    expect(s1.status).toBe(200);
    expect(s1.text).not.toContain(own1); // an own token is not echoed
    sessionIds.push(s1.body.id as string);

    const minted = await rest(t, "POST", "/api/v1/session-storage", json(A), { user_id: "usr_sec1" });
    expect(minted.status).toBe(200);
    tokens.push(minted.body.token as string);
    sessionIds.push(minted.body.id as string);
    mintedIds.add(minted.body.id as string);

    const own2 = ownToken("connect");
    tokens.push(own2);
    const s2 = await connect.saveSession({ userId: "usr_sec2", token: own2 }, { headers: md });
    sessionIds.push(s2.session!.id);

    const own3 = ownToken("grpc");
    tokens.push(own3);
    const s3 = await grpc.saveSession({ userId: "usr_sec3", token: own3 }, { headers: md });
    sessionIds.push(s3.session!.id);
    const mintedGrpc = await grpc.saveSession({ userId: "usr_sec3" }, { headers: md });
    tokens.push(mintedGrpc.session!.token!);
    sessionIds.push(mintedGrpc.session!.id);
    mintedIds.add(mintedGrpc.session!.id);

    // Reads: by id, and by Bearer (header on REST, metadata on gRPC).
    for (const id of sessionIds) expect((await rest(t, "GET", `/api/v1/session-storage/${id}`, A.headers)).status).toBe(200);
    for (const token of tokens) {
      expect((await rest(t, "GET", "/api/v1/session-storage/current", { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await rest(t, "GET", "/api/v1/session-storage/validity", { Authorization: `Bearer ${token}` })).body.is_valid).toBe(true);
    }
    await grpc.getCurrentSession({}, { headers: { authorization: `Bearer ${own3}` } });
    await connect.getSessionValidity({}, { headers: { authorization: `Bearer ${own2}` } });

    // Updates: new tokens in bodies.
    const rotated1 = ownToken("rotated-rest");
    tokens.push(rotated1);
    expect((await rest(t, "PUT", `/api/v1/session-storage/${sessionIds[0]}`, json(A), { token: rotated1 })).status).toBe(200);
    const rotated2 = ownToken("rotated-grpc");
    tokens.push(rotated2);
    await grpc.updateStoredSession({ id: s3.session!.id, token: rotated2, expiresAt: timestampFromMs(Date.now() + 600_000) }, { headers: md });

    // Failed calls that carry tokens and secrets.
    const never = ownToken("never-stored");
    tokens.push(never);
    const bad = [
      // wrong secret, token in the body
      await rest(t, "POST", "/api/v1/session-storage", { ClientID: A.id, ClientSecret: wrongSecrets[0]!, "content-type": "application/json" }, { user_id: "usr_sec9", token: never }),
      // wrong secret alongside a valid Bearer
      await rest(t, "GET", "/api/v1/session-storage/current", { ClientID: A.id, ClientSecret: wrongSecrets[1]!, authorization: `Bearer ${own2}` }),
      // unknown Bearer token
      await rest(t, "GET", "/api/v1/session-storage/current", { authorization: `Bearer ${never}` }),
      await rest(t, "GET", `/api/v1/session-storage/${sessionIds[1]}`, { authorization: `Bearer ${never}` }),
      // invalid user_id with a token in the body
      await rest(t, "POST", "/api/v1/session-storage", json(A), { user_id: "bad user", token: never }),
      // a token that is already stored
      await rest(t, "POST", "/api/v1/session-storage", json(A), { user_id: "usr_sec9", token: own2 }),
      // a token with a bad expiry, and unknown fields
      await rest(t, "POST", "/api/v1/session-storage", json(A), { user_id: "usr_sec9", token: never, expires_at: "yesterday" }),
      await rest(t, "POST", "/api/v1/session-storage", json(A), { user_id: "usr_sec9", token: never, refresh_token: never }),
      // malformed JSON around a token
      await rest(t, "POST", "/api/v1/session-storage", json(A), `{"user_id":"usr_sec9","token":"${never}",}`),
      // a token in the query string and in a cookie
      await rest(t, "GET", `/api/v1/session-storage?token=${never}`, { ...A.headers, cookie: `sessionCookie=${own1}` }),
      // a token too long for the limits
      await rest(t, "PUT", `/api/v1/session-storage/${sessionIds[1]}`, json(A), { token: `${never}${"x".repeat(5000)}` }),
    ];
    const statuses = bad.map((r) => r.status);
    // Every one of them failed, as a client error. (An unknown Bearer on /current: 401, or 404 "no current session".)
    expect([401, 404]).toContain(statuses[2]);
    expect([...statuses.slice(0, 2), ...statuses.slice(3)]).toEqual([401, 401, 401, 400, 409, 400, 400, 400, 400, 400]);
    for (const r of bad) expect(r.text).not.toContain(never.slice(0, 20) + "x"); // sanity: nothing echoes the long token

    for (const secret of wrongSecrets) {
      await expect(connect.listStoredSessions({}, { headers: { clientid: A.id, clientsecret: secret } })).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(
        grpc.saveSession({ userId: "usr_sec9", token: never }, { headers: { clientid: A.id, clientsecret: secret } }),
      ).rejects.toSatisfy((e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated);
    }
    await expect(grpc.getCurrentSession({}, { headers: { authorization: `Bearer ${never}` } })).rejects.toBeInstanceOf(ConnectError);
    // B's credentials in use too, so its secret had a chance to leak.
    expect((await rest(t, "GET", "/api/v1/session-storage", t.clientB.headers)).status).toBe(200);
  });

  afterAll(async () => t?.close());

  it("no Redis key or value contains a raw token, not even as a substring", async () => {
    const dump = await dumpRedis(t.redis);
    const mine = [...dump.keys()].filter((k) => k.includes(t.clientA.id));
    // The scan saw this app's data: sessions, indexes, current pointers.
    expect(mine.filter((k) => k.includes(":s:")).length).toBe(sessionIds.length);
    expect(mine.some((k) => k === redisKeys.userIndex(t.clientA.id, "usr_sec1"))).toBe(true);
    // Caller tokens have pointers (minted ones name their session and have none).
    expect([...dump.keys()].some((k) => k.startsWith(redisKeys.tokenPointer("")))).toBe(true);

    const leaks: string[] = [];
    for (const [key, values] of dump) {
      for (const token of tokens) {
        if (key.includes(token)) leaks.push(`key ${key}`);
        for (const v of values) if (v.includes(token)) leaks.push(`value of ${key}`);
        // Neither as an unkeyed hash, which a dictionary could reverse.
        for (const digest of plainDigests(token)) {
          if (key.includes(digest) || values.some((v) => v.includes(digest))) leaks.push(`sha256 of a token in ${key}`);
        }
      }
      for (const secret of [t.clientA.secret, t.clientB.secret, ...wrongSecrets]) {
        if (key.includes(secret) || values.some((v) => v.includes(secret))) leaks.push(`client secret in ${key}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("the stored token field is a caller token's AES-GCM ciphertext (v1.<kid>.…) or a minted token's wrapped secret (<kid>.…, format 1 by default)", async () => {
    expect(mintedIds.size).toBe(2);
    for (const id of sessionIds) {
      const hash = await t.redis.hgetall(keyOf(t.clientA.id, id));
      if (mintedIds.has(id)) {
        // 32 secret bytes, AES key-wrapped: 40 bytes, one compact hash value.
        expect(hash.tk, `session ${id}`).toMatch(/^k1\.[A-Za-z0-9_-]{54}$/);
        expect(hash.tp).toBeUndefined();
      } else {
        expect(joinChunks(hash, "tk"), `session ${id}`).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
        expect(hash.tp).toBe("1");
      }
      // The lookup hash is keyed (128 bits): not the token, not its plain SHA-256.
      expect(hash.th).toMatch(/^[A-Za-z0-9_-]{22}$/);
      for (const token of tokens) for (const digest of plainDigests(token)) expect(digest).not.toContain(hash.th);
    }
    // Two sessions never share a ciphertext, even for equal plaintext lengths (random IV, random secrets).
    const tks = await Promise.all(sessionIds.map((id) => readSealed(t.redis, keyOf(t.clientA.id, id))));
    expect(new Set(tks).size).toBe(tks.length);
  });

  it("the logs contain no raw token and no client secret (right or wrong)", () => {
    expect(t.logs.length).toBeGreaterThan(20);
    // The calls above were logged (so the check below is not vacuous): successes and failures.
    const parsed = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.some((l) => l.procedure === "sessionstorage.v1.SessionStorageService/SaveSession" && l.code === "ok")).toBe(true);
    expect(parsed.some((l) => l.code === "unauthenticated")).toBe(true);
    expect(parsed.some((l) => l.code === "already_exists")).toBe(true);

    const all = t.logs.join("\n");
    const leaked = tokens.filter((token) => all.includes(token));
    expect(leaked, "tokens found in logs").toEqual([]);
    for (const secret of [t.clientA.secret, t.clientB.secret, ...wrongSecrets]) {
      expect(all.includes(secret), "client secret found in logs").toBe(false);
    }
  });
});

describe("token encryption key rotation", () => {
  let t1: TestApp;
  let t2: TestApp | undefined;
  let t3: TestApp | undefined;
  const keyA = randomBytes(32).toString("base64");
  const keyB = randomBytes(32).toString("base64");

  beforeAll(async () => {
    t1 = await startTestApp({ TOKEN_ENCRYPTION_KEYS: `k1:${keyA}` });
  });
  afterAll(async () => {
    await t3?.close();
    await t2?.close();
    await t1?.close();
  });

  /** The same tenants and lookup key as t1, with another key ring. */
  const sameDeployment = (ring: string) => ({
    TOKEN_ENCRYPTION_KEYS: ring,
    TOKEN_HMAC_KEY: t1.config.tokenHmacKey.toString("base64"),
    API_CLIENTS: t1.config.apiClients.map((c) => `${c.id}:${c.secret}`).join(","),
  });
  const sessionKey = (_t: TestApp, id: string) => keyOf(t1.clientA.id, id);

  it("sessions sealed under k1 are readable after rotating to k2,k1; new ones are sealed under k2", async () => {
    const own = ownToken("rotation");
    const savedOwn = await rest(t1, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_rot", token: own });
    expect(savedOwn.status).toBe(200);
    const savedMinted = await rest(t1, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_rot2" });
    expect(savedMinted.status).toBe(200);
    const minted = savedMinted.body.token as string;
    const ownId = savedOwn.body.id as string;
    const mintedId = savedMinted.body.id as string;
    expect(await t1.redis.hget(sessionKey(t1, ownId), "tk")).toMatch(/^v1\.k1\./);

    t2 = await startTestApp(sameDeployment(`k2:${keyB},k1:${keyA}`));
    expect(t2.config.tokenEncryptionKeys.map((k) => k.id)).toEqual(["k2", "k1"]);

    // Read by id with the same API client...
    const got = await rest(t2, "GET", `/api/v1/session-storage/${ownId}`, t1.clientA.headers);
    expect(got.status).toBe(200);
    expect(got.body.token).toBe(own);
    expect((await rest(t2, "GET", `/api/v1/session-storage/${mintedId}`, t1.clientA.headers)).body.token).toBe(minted);
    // ...and by the token itself (same HMAC key, so the lookup still finds it).
    const cur = await rest(t2, "GET", "/api/v1/session-storage/current", { authorization: `Bearer ${own}` });
    expect(cur.status).toBe(200);
    expect(cur.body).toMatchObject({ token: own, is_valid: true });

    // New and updated tokens are sealed under the new active key.
    const fresh = await rest(t2, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_rot3" });
    expect(fresh.status).toBe(200);
    expect(await t2.redis.hget(sessionKey(t2, fresh.body.id as string), "tk")).toMatch(/^k2\./);
    expect((await rest(t2, "GET", `/api/v1/session-storage/${fresh.body.id as string}`, t1.clientA.headers)).body.token).toBe(fresh.body.token);
    // A minted token names the key it was minted under, so it keeps working after the rotation.
    expect((await rest(t2, "GET", "/api/v1/session-storage/current", { authorization: `Bearer ${minted}` })).body.id).toBe(mintedId);
    const replaced = ownToken("rotated-under-k2");
    expect((await rest(t2, "PUT", `/api/v1/session-storage/${mintedId}`, json(t1.clientA), { token: replaced })).status).toBe(200);
    expect(await t2.redis.hget(sessionKey(t2, mintedId), "tk")).toMatch(/^v1\.k2\./);
    expect((await rest(t2, "GET", `/api/v1/session-storage/${mintedId}`, t1.clientA.headers)).body.token).toBe(replaced);

    // The old deployment (k1 only) cannot read a k2 ciphertext: it fails closed, without leaking anything.
    const stale = await rest(t1, "GET", `/api/v1/session-storage/${mintedId}`, t1.clientA.headers);
    expect(stale.status).toBe(500);
    expect(stale.text).not.toContain(replaced);
    expect(stale.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  });

  it("a deployment holding only the new key cannot read k1 ciphertexts (the key id is honoured)", async () => {
    const saved = await rest(t1, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_rot4" });
    expect(saved.status).toBe(200);
    t3 = await startTestApp(sameDeployment(`k1:${keyB}`)); // same id, different key
    const res = await rest(t3, "GET", `/api/v1/session-storage/${saved.body.id as string}`, t1.clientA.headers);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(saved.body.token as string);
  });

  it("a ciphertext is bound to its session: copied onto another session it does not decrypt", async () => {
    const victim = await rest(t1, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_bind" });
    const attacker = await rest(t1, "POST", "/api/v1/session-storage", json(t1.clientA), { user_id: "usr_bind" });
    const victimTk = await readSealed(t1.redis, sessionKey(t1, victim.body.id as string));
    await writeSealed(t1.redis, sessionKey(t1, attacker.body.id as string), victimTk);
    const res = await rest(t1, "GET", `/api/v1/session-storage/${attacker.body.id as string}`, t1.clientA.headers);
    expect(res.status).not.toBe(200);
    expect(res.text).not.toContain(victim.body.token as string);
  });
});

describe("ciphertext integrity", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  async function savedSession(own?: string) {
    const saved = await rest(t, "POST", "/api/v1/session-storage", json(t.clientA), { user_id: "usr_integrity", token: own });
    expect(saved.status).toBe(200);
    const id = saved.body.id as string;
    return { id, token: own ?? (saved.body.token as string), key: keyOf(t.clientA.id, id) };
  }

  it("a tampered wrapped secret of a minted token is refused, never unwrapped into something else", async () => {
    const s = await savedSession();
    const [, kidAndSeparator, body] = /^(k1[.:])(.+)$/.exec(await readSealed(t.redis, s.key))!;
    const bytes = Buffer.from(body!, "base64url");
    bytes[5]! ^= 0x01;
    await writeSealed(t.redis, s.key, `${kidAndSeparator}${bytes.toString("base64url")}`);
    const res = await rest(t, "GET", `/api/v1/session-storage/${s.id}`, t.clientA.headers);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(s.token);
  });

  it("a tampered ciphertext of a caller's token is refused, never decrypted into something else", async () => {
    const s = await savedSession(ownToken("integrity"));
    const tk = await readSealed(t.redis, s.key);
    const [v, kid, iv, body] = tk.split(".");
    const bytes = Buffer.from(body!, "base64url");
    bytes[0]! ^= 0x01;
    await writeSealed(t.redis, s.key, `${v}.${kid}.${iv}.${bytes.toString("base64url")}`);
    const res = await rest(t, "GET", `/api/v1/session-storage/${s.id}`, t.clientA.headers);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(s.token);
  });

  it("a GCM tag shorter than 16 bytes is refused (a 4-byte tag could be forged by brute force)", async () => {
    const s = await savedSession(ownToken("short-tag"));
    const { id: kid, key } = t.config.tokenEncryptionKeys[0]!;
    // A well-formed encryption of the empty token under the real key, but with a 4-byte tag.
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: 4 });
    cipher.setAAD(Buffer.from(s.id));
    const body = Buffer.concat([cipher.update(""), cipher.final(), cipher.getAuthTag()]);
    expect(body.length).toBe(4);
    await writeSealed(t.redis, s.key, `v1.${kid}.${iv.toString("base64url")}.${body.toString("base64url")}`);
    const res = await rest(t, "GET", `/api/v1/session-storage/${s.id}`, t.clientA.headers);
    expect(res.status).toBe(500);
    expect(res.body.token).toBeUndefined();
  });
});
