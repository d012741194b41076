// Replicas of the service: apps with the same configuration (API clients,
// token keys, HMAC key, JWT keys) on one Redis, listening on their own
// ports. Whatever one does, the others see: the service keeps no session
// state of its own. A third replica mints token format 2, as after an upgrade.
import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { makeTestSecrets, startTestApp, type TestApp } from "./support/test-app.js";
import { jsonCall } from "./support/json-call.js";

type Json = Record<string, any>;

let one: TestApp;
let two: TestApp;
/** A replica minting token format 2, as once no replica of the release that reads only format 1 runs. */
let upgraded: TestApp;
beforeAll(async () => {
  const secrets = await makeTestSecrets();
  [one, two, upgraded] = await Promise.all([startTestApp({}, secrets), startTestApp({}, secrets), startTestApp({ TOKEN_FORMAT: "2" }, secrets)]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close(), upgraded?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const uid = () => `replica-${randomBytes(4).toString("hex")}`;
/** A caller's own token (an IdP's JWT, say): distinct per call. */
const callerToken = () => `eyJhbGciOiJFUzI1NiJ9.${randomBytes(24).toString("base64url")}`;


/** Creates a session through `app` (000 POST); its minted token is returned once. */
async function create(app: TestApp, userId: string): Promise<{ id: string; token: string }> {
  const res = await jsonCall(app, "POST", "/api/v1/session-storage", app.clientA.headers, { user_id: userId, user: { name: userId } });
  expect(res.status).toBe(200);
  return { id: res.body.id as string, token: res.body.token as string };
}

const status = (app: TestApp, token: string) => jsonCall(app, "GET", "/auth/status", bearer(token));
const grpcStatus = (app: TestApp, token: string) =>
  createClient(AuthStatusService, createGrpcTransport({ baseUrl: app.baseUrl })).getAuthStatus({}, { headers: bearer(token) });

describe("service replicas on one Redis", () => {
  test("the apps are two servers on two ports with one configuration", () => {
    expect(one.port).not.toBe(two.port);
    expect(one.clientA).toEqual(two.clientA);
    expect(one.config.tokenHmacKey.equals(two.config.tokenHmacKey)).toBe(true);
  });

  test("a session created through one validates through the other, over REST and gRPC", async () => {
    const userId = uid();
    const s = await create(one, userId);
    const rest = await status(two, s.token);
    expect(rest.status).toBe(200);
    expect(rest.body.valid).toBe(true);
    expect(rest.body.user).toEqual({ name: userId });
    const grpc = await grpcStatus(two, s.token);
    expect(grpc.valid).toBe(true);
    // And back: created through two, valid through one.
    const back = await create(two, userId);
    expect((await status(one, back.token)).status).toBe(200);
    expect((await grpcStatus(one, back.token)).valid).toBe(true);
  });

  test("a validation through one slides the session the other reads", async () => {
    const s = await create(one, uid());
    const first = (await status(one, s.token)).body.session.last_accessed as string;
    await sleep(1_100); // last_accessed may be shown to the second
    const slid = await status(two, s.token);
    expect(slid.status).toBe(200);
    expect(Date.parse(slid.body.session.last_accessed)).toBeGreaterThan(Date.parse(first));
    const seen = (await jsonCall(one, "GET", `/v1/client/sessions/${encodeURIComponent(s.id)}`, one.clientA.headers)).body.response as Json;
    expect(Date.parse(seen.last_active_at)).toBe(Date.parse(slid.body.session.last_accessed));
  });

  test("a token rotated through one is dead on both; the new token works on both", async () => {
    const s = await create(one, uid());
    const fresh = callerToken();
    const put = await jsonCall(two, "PUT", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, two.clientA.headers, { token: fresh });
    expect(put.status).toBe(200);
    for (const app of [one, two]) {
      expect((await status(app, s.token)).status).toBe(401);
      expect((await status(app, fresh)).status).toBe(200);
      expect((await grpcStatus(app, fresh)).valid).toBe(true);
    }
  });

  test("a session ended through the other instance is over on both", async () => {
    const s = await create(one, uid());
    const ended = await jsonCall(two, "POST", `/v1/client/sessions/${encodeURIComponent(s.id)}/end`, bearer(s.token));
    expect(ended.status).toBe(200);
    expect(ended.body.response.status).toBe("ended");
    for (const app of [one, two]) {
      expect((await status(app, s.token)).status).toBe(401);
      expect((await grpcStatus(app, s.token)).valid).toBe(false);
    }
  });

  test("a JWT minted by either instance verifies with either instance's JWKS", async () => {
    const userId = uid();
    const s = await create(one, userId);
    const sets = await Promise.all([one, two].map(async (app) => {
      const res = await jsonCall(app, "GET", "/.well-known/jwks.json");
      expect(res.status).toBe(200);
      return createLocalJWKSet(res.body as JSONWebKeySet);
    }));
    for (const minter of [one, two]) {
      const res = await jsonCall(minter, "POST", `/v1/client/sessions/${encodeURIComponent(s.id)}/tokens`, bearer(s.token));
      expect(res.status).toBe(200);
      for (const keys of sets) {
        const { payload } = await jwtVerify(res.body.jwt as string, keys, {
          issuer: one.config.jwtIssuer,
          audience: one.clientA.id,
          algorithms: ["ES256"],
        });
        expect(payload).toMatchObject({ sub: userId, sid: s.id });
      }
    }
  });

  test("TOKEN_FORMAT=2 mints the second format; every replica validates and shows both formats' tokens", async () => {
    const old = await create(one, uid());
    const fresh = await create(upgraded, uid());
    // Format 1 seals with AES-GCM (a 16-byte tag over a multiple of 32), format 2 pads to a multiple of 32.
    expect(Buffer.from(old.token.split(".")[2]!, "base64url").length % 32).toBe(16);
    expect(Buffer.from(fresh.token.split(".")[2]!, "base64url").length % 32).toBe(0);
    for (const s of [old, fresh]) {
      for (const app of [one, two, upgraded]) {
        const res = await status(app, s.token);
        expect(res.status).toBe(200);
        expect((await grpcStatus(app, s.token)).valid).toBe(true);
        const shown = await jsonCall(app, "GET", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, app.clientA.headers);
        expect(shown.body.token).toBe(s.token);
      }
    }
  });

  test("50 concurrent rotations split across both instances leave exactly one valid token", async () => {
    const s = await create(one, uid());
    const tokens = Array.from({ length: 50 }, callerToken);
    const puts = await Promise.all(tokens.map((token, i) => {
      const app = i % 2 === 0 ? one : two;
      return jsonCall(app, "PUT", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, app.clientA.headers, { token });
    }));
    // Every rotation of a live session to a new, unclaimed token succeeds; the last one applied wins.
    expect(puts.map((p) => p.status)).toEqual(tokens.map(() => 200));
    const checks = await Promise.all([s.token, ...tokens].map(async (token) => [(await status(one, token)).status, (await status(two, token)).status]));
    const valid = checks.filter(([a, b]) => a === 200 && b === 200);
    expect(valid).toHaveLength(1);
    expect(checks.filter(([a, b]) => a === 401 && b === 401)).toHaveLength(50);
    expect(checks[0]).toEqual([401, 401]); // the original token
    // The one valid token is the one the session holds now.
    const winner = tokens[checks.slice(1).findIndex(([a]) => a === 200)]!;
    const stored = await jsonCall(two, "GET", `/api/v1/session-storage/${encodeURIComponent(s.id)}`, two.clientA.headers);
    expect(stored.body.token).toBe(winner);
  }, 30_000);
});
