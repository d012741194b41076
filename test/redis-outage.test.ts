import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, expect, onTestFinished, test, vi } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { makeTestSecrets, startTestApp, type TestApp } from "./support/test-app.js";

// The service's own Redis goes away and comes back: health follows it, calls
// fail with UNAVAILABLE / 503 and a clear message, and nothing crashes.

let redis: ChildProcess | undefined;
let t: TestApp | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), "sss-outage-"));
afterAll(async () => {
  await t?.close();
  redis?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not reached in 10 s");
};

test("health, REST and gRPC follow Redis reachability", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  redis = await startRedisServer(dir, port, false);
  t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
  const app = t;
  const health = createClient(Health, createGrpcTransport({ baseUrl: app.baseUrl }));
  const status = async () => (await health.check({ service: "" })).status;
  const save = () =>
    fetch(`${app.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...app.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "outage-user" }),
    });

  await until(async () => (await status()) === HealthCheckResponse_ServingStatus.SERVING);
  expect((await save()).status).toBe(200);

  redis.kill("SIGKILL");
  await new Promise((r) => redis!.once("exit", r));
  await until(async () => (await status()) === HealthCheckResponse_ServingStatus.NOT_SERVING);
  const down = await save();
  expect(down.status).toBe(503);
  const body = (await down.json()) as { code: string; message: string };
  expect(body.code).toBe("unavailable");
  expect(body.message).toMatch(/unavailable/);
  expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|at .*\.js/);

  redis = await startRedisServer(dir, port, false);
  await until(async () => (await status()) === HealthCheckResponse_ServingStatus.SERVING);
  await until(async () => (await save()).status === 200);
}, 60_000);

test("a hung Redis (connected, never answering) gives 503 within seconds, and shutdown still finishes (webhook lease held)", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const hungDir = mkdtempSync(path.join(os.tmpdir(), "sss-hung-"));
  const hung = await startRedisServer(hungDir, port, false);
  // Killed even when the test times out (its finally never runs then).
  onTestFinished(() => void hung.kill("SIGKILL"));
  const secrets = await makeTestSecrets();
  // A webhook deliverer holds a lease it gives up at shutdown: that must not wait on Redis forever either.
  const app = await startTestApp({
    REDIS_URL: `redis://127.0.0.1:${port}`,
    SHUTDOWN_GRACE_MS: "1000",
    WEBHOOKS: `${secrets.clientA.id}=http://127.0.0.1:9/hook`,
    WEBHOOK_SECRETS: `${secrets.clientA.id}=whsec_${Buffer.alloc(32, 7).toString("base64")}`,
  }, secrets);
  try {
    const leaseKey = redisKeys.webhookLease(secrets.clientA.id);
    const redis = new Redis(`redis://127.0.0.1:${port}`);
    await vi.waitFor(async () => expect(await redis.exists(leaseKey)).toBe(1), { timeout: 5_000, interval: 50 });
    redis.disconnect();
    hung.kill("SIGSTOP");
    const started = Date.now();
    const res = await fetch(`${app.baseUrl}/api/v1/session-storage`, { headers: app.clientA.headers });
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(8_000);
    const closeStarted = Date.now();
    await app.close();
    expect(Date.now() - closeStarted).toBeLessThan(8_000);
  } finally {
    hung.kill("SIGKILL");
    rmSync(hungDir, { recursive: true, force: true });
  }
}, 30_000);
