// Webhooks: each API client's session events are POSTed to its configured
// URL, signed in the Standard Webhooks style (checked here by an
// implementation of the spec of the test's own, on WebCrypto), each exactly
// once and in order per session; failed attempts are retried with the same
// webhook-id, an event that keeps failing is given up; a stuck receiver does
// not hold the calls that make events, nor shutdown; delivery resumes after
// a restart; with two replicas one delivers (a lease); tenants are apart;
// no token reaches a receiver or a log.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, test } from "vitest";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { retryDelayMs } from "../src/webhooks/retry-delay.js";
import { signWebhook } from "../src/webhooks/webhook-signature.js";
import { connectSharedRedis } from "./support/shared-redis.js";
import { makeTestSecrets, startTestApp, type TestApp, type TestClient, type TestSecrets } from "./support/test-app.js";
import { jsonCall } from "./support/json-call.js";
import { startWebhookReceiver, type ReceivedHook, type WebhookReceiver } from "./support/webhook-receiver.js";

type Json = Record<string, any>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = (tag: string) => `wh-${tag}-${randomBytes(4).toString("hex")}`;
const callerToken = () => `eyJhbGciOiJFUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/** Every token minted or sent in this file, every receiver and every app's log lines: scanned at the end. */
const tokens: string[] = [];
const receivers: WebhookReceiver[] = [];
const logs: string[][] = [];
const hmacKeys: Buffer[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});


async function create(app: TestApp, userId: string, extra: Json = {}, headers: Record<string, string> = app.clientA.headers) {
  const res = await jsonCall(app, "POST", "/api/v1/session-storage", headers, { user_id: userId, ...extra });
  expect(res.status, res.text).toBe(200);
  tokens.push(res.body.token as string);
  return { id: res.body.id as string, token: res.body.token as string };
}

async function receiver(answer?: Parameters<typeof startWebhookReceiver>[0]) {
  const r = await startWebhookReceiver(answer);
  receivers.push(r);
  return r;
}

/** The settings that send `client`'s events to `r`, signed with `secret`. */
function hooks(entries: [TestClient, WebhookReceiver, string][]): Record<string, string> {
  return {
    WEBHOOKS: entries.map(([c, r]) => `${c.id}=${r.url}`).join(","),
    WEBHOOK_SECRETS: entries.map(([c, , s]) => `${c.id}=${s}`).join(","),
  };
}

async function app(env: Record<string, string>, secrets: TestSecrets): Promise<TestApp> {
  const a = await startTestApp(env, secrets);
  logs.push(a.logs);
  hmacKeys.push(Buffer.from(a.config.tokenHmacKey));
  return a;
}

// --- An independent check of the Standard Webhooks signature (WebCrypto, atob; not the service's code). ---

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** True when one of the v1 signatures in `webhook-signature` is the HMAC of "<id>.<timestamp>.<body>" under the whsec_ secret. */
async function verifyStandardWebhook(secret: string, headers: Record<string, string | string[] | undefined>, body: string): Promise<boolean> {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof signatures !== "string") return false;
  if (!secret.startsWith("whsec_")) return false;
  const key = await crypto.subtle.importKey("raw", base64Bytes(secret.slice("whsec_".length)), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const entry of signatures.split(" ")) {
    const [version, signature] = entry.split(",");
    if (version === "v1" && signature && (await crypto.subtle.verify("HMAC", key, base64Bytes(signature), signed))) return true;
  }
  return false;
}

const json = (r: ReceivedHook) => JSON.parse(r.body) as Json;
const hookId = (r: ReceivedHook) => r.headers["webhook-id"] as string;

/** Checks a delivery: signature, headers and body shape; answers its parsed body. */
async function expectValidDelivery(r: ReceivedHook, secret: string, tenantId: string): Promise<Json> {
  expect(await verifyStandardWebhook(secret, r.headers, r.body), "a valid Standard Webhooks signature").toBe(true);
  expect(r.headers["content-type"]).toBe("application/json");
  // Receivers refuse timestamps more than a few minutes off (replays).
  expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);
  const body = json(r);
  expect(Object.keys(body)).toEqual(["type", "timestamp", "data"]);
  expect(body.type).toBe(`session.${body.data.type}`);
  expect(Date.parse(body.timestamp)).toBe(Date.parse(body.data.time));
  expect(body.data.tenant_id).toBe(tenantId);
  expect(hookId(r)).toBe(`evt_${body.data.stream ?? 0}_${body.data.id}`);
  expect(body.data.session_id.startsWith(`${body.data.user_id}.`)).toBe(true);
  return body;
}

describe("the signature", () => {
  test("matches the Standard Webhooks reference vector, which the test's own verifier accepts too", async () => {
    // The vector published with the specification's libraries.
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const body = '{"test": 2432232314}';
    const expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    expect(signWebhook(Buffer.from(secret.slice(6), "base64"), id, 1614265330, body)).toBe(expected);
    const headers = { "webhook-id": id, "webhook-timestamp": "1614265330", "webhook-signature": expected };
    expect(await verifyStandardWebhook(secret, headers, body)).toBe(true);
    expect(await verifyStandardWebhook(secret, headers, body.replace("2", "3"))).toBe(false);
    expect(await verifyStandardWebhook(secret, { ...headers, "webhook-timestamp": "1614265331" }, body)).toBe(false);
  });
});

describe("the backoff", () => {
  test("doubles from the base after each failure, never past the max, jittered between half and all of the step", () => {
    const at = (failures: number, random: number) => retryDelayMs(failures, 1_000, 60_000, () => random);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => at(n, 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect([1, 2, 7, 50].map((n) => at(n, 0))).toEqual([500, 1_000, 30_000, 30_000]);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(3, 1_000, 60_000);
      expect(d >= 2_000 && d <= 4_000).toBe(true);
    }
  });
});

describe("a scripted sequence, two tenants with a hook each", () => {
  test("arrives exactly once per event, signed, in order per session; a tenant's hook gets only its events", async () => {
    const secrets = await makeTestSecrets();
    const [hookA, hookB] = [await receiver(), await receiver()];
    const [secretA, secretB] = [newSecret(), newSecret()];
    const t = await app(hooks([[secrets.clientA, hookA, secretA], [secrets.clientB, hookB, secretB]]), secrets);
    try {
      const h = t.clientA.headers;
      const expected: [string, string][] = [];
      // created, token_rotated, deleted
      const u1 = uid("u1");
      const own = callerToken();
      tokens.push(own);
      const s1 = await create(t, u1, { token: own });
      expected.push(["created", s1.id]);
      const rotated = callerToken();
      tokens.push(rotated);
      expect((await jsonCall(t, "PUT", `/api/v1/session-storage/${s1.id}`, h, { token: rotated })).status).toBe(200);
      expected.push(["token_rotated", s1.id]);
      expect((await jsonCall(t, "GET", "/auth/status", bearer(rotated))).status).toBe(200); // a slide: no event
      expect((await jsonCall(t, "DELETE", `/session-storage/sessions/${s1.id}`, h)).status).toBe(204);
      expected.push(["deleted", s1.id]);
      // ended (by the holder, and by "end my other sessions"), removed
      const u2 = uid("u2");
      const [s2, s3, s4] = [await create(t, u2), await create(t, u2), await create(t, u2)];
      expected.push(["created", s2.id], ["created", s3.id], ["created", s4.id]);
      expect((await jsonCall(t, "POST", `/v1/client/sessions/${s2.id}/end`, bearer(s2.token))).status).toBe(200);
      expected.push(["ended", s2.id]);
      expect((await jsonCall(t, "POST", `/v1/client/sessions/${s3.id}/end-others`, bearer(s3.token))).status).toBe(200);
      expected.push(["ended", s4.id]);
      expect((await jsonCall(t, "POST", `/v1/client/sessions/${s3.id}/remove`, h)).status).toBe(200);
      expected.push(["removed", s3.id]);
      // revoked: sign out everywhere
      const u3 = uid("u3");
      const [r1, r2] = [await create(t, u3), await create(t, u3)];
      expected.push(["created", r1.id], ["created", r2.id]);
      expect((await jsonCall(t, "POST", `/session-storage/users/${u3}/revoke`, h, { reason: "password changed" })).status).toBe(200);
      expected.push(["revoked", r1.id], ["revoked", r2.id]);
      // Tenant B's own change.
      const b = await create(t, uid("b"), {}, t.clientB.headers);

      await hookA.until((r) => r.received.length >= expected.length);
      await hookB.until((r) => r.received.length >= 1);
      await sleep(1_000); // a duplicate would arrive meanwhile

      expect(hookA.received.length).toBe(expected.length);
      expect(new Set(hookA.received.map(hookId)).size).toBe(expected.length);
      const bodies: Json[] = [];
      for (const r of hookA.received) bodies.push(await expectValidDelivery(r, secretA, t.clientA.id));
      expect(bodies.map((b) => `${b.data.type} ${b.data.session_id}`).sort()).toEqual(expected.map(([type, id]) => `${type} ${id}`).sort());
      // In order per session: each session's events arrive in the order of its changes.
      const perSession = (list: [string, string][]) => {
        const by: Record<string, string[]> = {};
        for (const [type, id] of list) (by[id] ??= []).push(type);
        return by;
      };
      expect(perSession(bodies.map((b) => [b.data.type, b.data.session_id]))).toEqual(perSession(expected));
      const revoked = bodies.find((b) => b.data.type === "revoked")!;
      expect([revoked.data.status, revoked.data.cause, revoked.data.reason]).toEqual(["revoked", "revoke_all", "password changed"]);

      // Tenant B's hook: its one event, signed with its own secret (not A's).
      expect(hookB.received.length).toBe(1);
      const onlyB = await expectValidDelivery(hookB.received[0]!, secretB, t.clientB.id);
      expect([onlyB.data.type, onlyB.data.session_id]).toEqual(["created", b.id]);
      expect(await verifyStandardWebhook(secretA, hookB.received[0]!.headers, hookB.received[0]!.body)).toBe(false);

      // The cursor each tenant's delivery goes on from is stored, in its own key.
      expect(await t.redis.get(redisKeys.webhookCursor(t.clientA.id))).toBe(bodies.at(-1)!.data.cursor);
    } finally {
      await t.close();
    }
  });
});

describe("failures", () => {
  test("a failed attempt is retried after a backoff with the same webhook-id and body; one that keeps failing is given up and the next goes", async () => {
    const secrets = await makeTestSecrets();
    const [flaky, doomed, fine] = [uid("flaky"), uid("doomed"), uid("fine")];
    const tries = new Map<string, number>();
    // The flaky user's event fails twice, the doomed user's every time; the rest are accepted.
    const hook = await receiver((_n, id, body) => {
      const user = (JSON.parse(body) as Json).data.user_id;
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      if (user === doomed) return 500;
      return user === flaky && n <= 2 ? 503 : 200;
    });
    const secret = newSecret();
    const base = 200;
    const t = await app({
      ...hooks([[secrets.clientA, hook, secret]]),
      WEBHOOK_RETRY_BASE_MS: String(base),
      WEBHOOK_RETRY_MAX_DELAY_MS: "400",
      WEBHOOK_MAX_ATTEMPTS: "3",
    }, secrets);
    try {
      const a = await create(t, flaky);
      await create(t, doomed);
      await create(t, fine);
      await hook.until((r) => r.accepted().some((x) => json(x).data.user_id === fine));
      await sleep(800); // a further attempt of anything would arrive meanwhile
      const of = (user: string) => hook.received.filter((r) => json(r).data.user_id === user);

      const first = of(flaky);
      expect(first.map((r) => r.answer)).toEqual([503, 503, 200]);
      expect(new Set(first.map(hookId)).size).toBe(1);
      expect(new Set(first.map((r) => r.body)).size).toBe(1);
      for (const r of first) await expectValidDelivery(r, secret, t.clientA.id);
      expect(json(first[0]!).data.session_id).toBe(a.id);
      // Backoff: at least half of the exponential step (equal jitter) between attempts: base, then 2 × base.
      expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(base / 2 - 20);
      expect(first[2]!.at - first[1]!.at).toBeGreaterThanOrEqual(base - 20);

      // Given up after WEBHOOK_MAX_ATTEMPTS, logged by webhook-id; then the next event went, once.
      const gaveUp = of(doomed);
      expect(gaveUp.map((r) => r.answer)).toEqual([500, 500, 500]);
      expect(new Set(gaveUp.map(hookId)).size).toBe(1);
      expect(t.logs.some((l) => l.includes("given up") && l.includes(hookId(gaveUp[0]!)))).toBe(true);
      const next = of(fine);
      expect(next.map((r) => r.answer)).toEqual([200]);
      // In order: no event overtakes one still being retried.
      expect(first.at(-1)!.at).toBeLessThanOrEqual(gaveUp[0]!.at);
      expect(next[0]!.at).toBeGreaterThanOrEqual(gaveUp.at(-1)!.at);

      const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
      const count = (outcome: string) => Number(new RegExp(`sss_webhook_attempts_total\\{client="${t.clientA.id}",outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1]);
      expect([count("delivered"), count("retried"), count("given_up")]).toEqual([2, 4, 1]);
    } finally {
      await t.close();
    }
  }, 30_000);
});

describe("a receiver that does not answer", () => {
  test("holds only its own delivery: the calls that make events complete meanwhile, and it gets them all once released", async () => {
    const secrets = await makeTestSecrets();
    const hook = await receiver(() => "hang");
    const secret = newSecret();
    // The POST's time limit is far beyond the test: the deliverer stays stuck on the first event.
    const t = await app({ ...hooks([[secrets.clientA, hook, secret]]), WEBHOOK_TIMEOUT_MS: "60000" }, secrets);
    try {
      const user = uid("stuck");
      const made = [(await create(t, user)).id];
      await hook.until((r) => r.hanging() === 1);
      // While the receiver holds the first event, many calls that each write an event.
      const calls = await Promise.all(Array.from({ length: 60 }, (_, i) => create(t, `${user}-${i % 6}`)));
      made.push(...calls.map((c) => c.id));
      const ends = await Promise.all(calls.slice(0, 20).map((c) => jsonCall(t, "POST", `/v1/client/sessions/${c.id}/end`, bearer(c.token))));
      expect(ends.every((r) => r.status === 200)).toBe(true);
      // The receiver was stuck the whole time: still one request, still unanswered.
      expect(hook.received.length).toBe(1);
      expect(hook.hanging()).toBe(1);

      hook.release();
      const total = made.length + 20;
      await hook.until((r) => r.received.length >= total);
      await sleep(500);
      expect(hook.received.length).toBe(total);
      const bodies = hook.received.map(json);
      expect(bodies.filter((b) => b.data.type === "created").map((b) => b.data.session_id).sort()).toEqual([...made].sort());
      expect(new Set(hook.received.map(hookId)).size).toBe(total);
      // Per session: created before ended.
      for (const c of calls.slice(0, 20)) {
        expect(bodies.filter((b) => b.data.session_id === c.id).map((b) => b.data.type)).toEqual(["created", "ended"]);
      }
    } finally {
      await t.close();
    }
  }, 30_000);

  test("does not hold shutdown; the event it held is delivered again, same webhook-id, after a restart", async () => {
    const secrets = await makeTestSecrets();
    const stuck = await receiver(() => "hang");
    const secret = newSecret();
    const env = { WEBHOOK_TIMEOUT_MS: "60000", SHUTDOWN_GRACE_MS: "10000" };
    const first = await app({ ...env, ...hooks([[secrets.clientA, stuck, secret]]) }, secrets);
    const s = await create(first, uid("held"));
    await stuck.until((r) => r.hanging() === 1);
    const closed = await Promise.race([first.close().then(() => "closed"), sleep(8_000).then(() => "hung")]);
    expect(closed).toBe("closed");
    // It gave its lease up on the way out, and never stored a cursor past the unanswered event.
    const redis = connectSharedRedis();
    try {
      expect(await redis.get(redisKeys.webhookLease(secrets.clientA.id))).toBeNull();
      expect(await redis.get(redisKeys.webhookCursor(secrets.clientA.id))).toBeNull();
    } finally {
      redis.disconnect();
    }

    const hook = await receiver();
    const second = await app({ ...env, ...hooks([[secrets.clientA, hook, secret]]) }, secrets);
    try {
      await hook.until((r) => r.received.length >= 1);
      await sleep(500);
      expect(hook.received.length).toBe(1);
      const body = await expectValidDelivery(hook.received[0]!, secret, secrets.clientA.id);
      expect(body.data.session_id).toBe(s.id);
      expect(hookId(hook.received[0]!)).toBe(hookId(stuck.received[0]!));
    } finally {
      await second.close();
    }
  }, 30_000);
});

describe("restarts and replicas", () => {
  test("a restarted service goes on after the last event delivered: nothing lost, nothing repeated", async () => {
    const secrets = await makeTestSecrets();
    const hook = await receiver();
    const secret = newSecret();
    const withHook = hooks([[secrets.clientA, hook, secret]]);
    const user = uid("restart");
    const before = await app(withHook, secrets);
    const made: string[] = [];
    try {
      for (let i = 0; i < 3; i++) made.push((await create(before, user)).id);
      await hook.until((r) => r.received.length >= 3);
      // Delivered means answered and recorded: the cursor has moved past the third event.
      const third = json(hook.received[2]!).data.cursor as string;
      for (let i = 0; i < 100 && (await before.redis.get(redisKeys.webhookCursor(secrets.clientA.id))) !== third; i++) await sleep(20);
      expect(await before.redis.get(redisKeys.webhookCursor(secrets.clientA.id))).toBe(third);
    } finally {
      await before.close();
    }
    // Changes while no instance delivers: a replica without hooks makes them.
    const other = await app({}, secrets);
    try {
      for (let i = 0; i < 3; i++) made.push((await create(other, user)).id);
      expect((await jsonCall(other, "POST", `/v1/client/sessions/${made[0]}/remove`, other.clientA.headers)).status).toBe(200);
    } finally {
      await other.close();
    }
    expect(hook.received.length).toBe(3);
    const after = await app(withHook, secrets);
    try {
      await hook.until((r) => r.received.length >= 7);
      await sleep(800);
      expect(hook.received.length).toBe(7);
      expect(new Set(hook.received.map(hookId)).size).toBe(7);
      const bodies = [];
      for (const r of hook.received) bodies.push(await expectValidDelivery(r, secret, secrets.clientA.id));
      expect(bodies.filter((b) => b.data.type === "created").map((b) => b.data.session_id)).toEqual(made);
      expect(bodies.at(-1)!.data.type).toBe("removed");
    } finally {
      await after.close();
    }
  }, 30_000);

  test("two replicas deliver each event once; when the delivering one stops, the other goes on", async () => {
    const secrets = await makeTestSecrets();
    const hook = await receiver();
    const secret = newSecret();
    const env = { ...hooks([[secrets.clientA, hook, secret]]), WEBHOOK_LEASE_MS: "1000" };
    const [one, two] = [await app(env, secrets), await app(env, secrets)];
    let oneOpen = true;
    try {
      const user = uid("replicas");
      const made: string[] = [];
      for (let i = 0; i < 20; i++) made.push((await create(i % 2 ? one : two, `${user}-${i % 4}`)).id);
      await hook.until((r) => r.received.length >= 20);
      await sleep(1_000);
      expect(hook.received.length).toBe(20);
      // Stop one replica (the holder or not); the other delivers what follows.
      await one.close();
      oneOpen = false;
      for (let i = 0; i < 5; i++) made.push((await create(two, `${user}-${i % 4}`)).id);
      await hook.until((r) => r.received.length >= 25);
      await sleep(1_000);
      expect(hook.received.length).toBe(25);
      expect(new Set(hook.received.map(hookId)).size).toBe(25);
      expect(hook.received.map((r) => json(r).data.session_id).sort()).toEqual([...made].sort());
    } finally {
      await Promise.all([oneOpen ? one.close() : undefined, two.close()]);
    }
  }, 30_000);

  test("while another instance holds the lease nothing is sent; once it lapses unrenewed, this one takes over", async () => {
    const secrets = await makeTestSecrets();
    const hook = await receiver();
    const secret = newSecret();
    const inspector = (await app({}, secrets));
    // An instance that stopped renewing (a crash): its lease lapses by itself.
    await inspector.redis.set(redisKeys.webhookLease(secrets.clientA.id), "another-instance", "PX", 3_000);
    await inspector.close();
    const t = await app({ ...hooks([[secrets.clientA, hook, secret]]), WEBHOOK_LEASE_MS: "1000" }, secrets);
    try {
      const s = await create(t, uid("lapse"));
      await sleep(1_000);
      expect(await t.redis.get(redisKeys.webhookLease(secrets.clientA.id))).toBe("another-instance");
      expect(hook.received.length).toBe(0);
      await hook.until((r) => r.received.length >= 1);
      expect(json(hook.received[0]!).data.session_id).toBe(s.id);
      expect(await t.redis.get(redisKeys.webhookLease(secrets.clientA.id))).not.toBe("another-instance");
    } finally {
      await t.close();
    }
  }, 30_000);
});

describe("tokens", () => {
  test("no token (nor its lookup hash) appears in any delivered request or any log line of this file's apps", () => {
    const minted = tokens.filter(Boolean);
    expect(minted.length).toBeGreaterThan(100);
    const secrets = minted.flatMap((token) => [token, ...hmacKeys.map((k) => createKeyedHash(k, "token-lookup", 16).digest(token))]);
    const delivered = receivers.flatMap((r) => r.received.map((x) => `${JSON.stringify(x.headers)}\n${x.body}`));
    expect(delivered.length).toBeGreaterThan(100);
    const lines = logs.flat();
    expect(lines.some((l) => l.includes("webhook"))).toBe(true);
    const allDelivered = delivered.join("\n");
    const allLines = lines.join("\n");
    for (const secret of secrets) {
      expect(allDelivered.includes(secret), "a token in a webhook").toBe(false);
      expect(allLines.includes(secret), "a token in a log line").toBe(false);
    }
  });
});
