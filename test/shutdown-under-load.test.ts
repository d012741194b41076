import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, expect, test } from "vitest";
import { createMixedCalls, medianAndMax, type CallResult } from "./support/mixed-calls.js";
import { freePort, startOwnRedis, type OwnRedis } from "./support/own-redis.js";

// SIGTERM to the real entry point (`node dist/src/main.js`, built by `npm run
// build`) while REST and gRPC calls are in flight: each of them is answered,
// new connections are refused, and the process exits 0 within the grace.

const entry = "dist/src/main.js";
const graceMs = 5_000;
let redis: OwnRedis | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), "sss-shutdown-"));
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });

test("SIGTERM under mixed REST and gRPC load: every call in flight is answered, new connections are refused, exit 0 within SHUTDOWN_GRACE_MS", async () => {
  if (!existsSync(entry) || statSync(entry).mtimeMs < statSync("src/server.ts").mtimeMs) {
    throw new Error(`${entry} is missing or older than src/: run \`npm run build\` first (./scripts/test.sh does)`);
  }
  // DEBUG SLEEP holds every call in flight at the moment of the SIGTERM.
  redis = await startOwnRedis(["--enable-debug-command", "local"]);
  const port = await freePort();
  const id = "shutdown-client";
  const secret = randomBytes(24).toString("base64url");
  const jwk = { ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "shutdown" };
  const child = spawn(process.execPath, ["--enable-source-maps", entry], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: redis.url,
      HOST: "127.0.0.1",
      PORT: String(port),
      API_CLIENTS: `${id}:${secret}`,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
      JWT_SIGNING_KEYS: JSON.stringify([jwk]),
      SHUTDOWN_GRACE_MS: String(graceMs),
      DATA_DIR: dir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once("exit", (code) => resolve({ code, at: performance.now() })));
  try {
    for (let i = 0; i < 100 && !output.includes("listening"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain("listening");
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = { id, secret, headers: { ClientID: id, ClientSecret: secret } };
    const res = await fetch(`${baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...client.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "shutdown-known" }),
    });
    expect(res.status).toBe(200);
    const calls = createMixedCalls(baseUrl, client, (await res.json()) as { id: string; token: string });

    // 24 workers, one call at a time each, every kind over REST and gRPC.
    let stopping = false;
    const results: CallResult[] = [];
    const workers = Array.from({ length: 24 }, async (_, w) => {
      for (let i = w; !stopping; i += 24) results.push(await calls.call(i));
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const beforeSleep = results.length;

    const admin = new Redis(redis.url);
    const sleeping = admin.call("DEBUG", "SLEEP", "1").finally(() => admin.disconnect());
    await new Promise((r) => setTimeout(r, 200));
    stopping = true;
    child.kill("SIGTERM");
    const termAt = performance.now();

    // The listening socket closes at once; the calls held by Redis are still in flight.
    let refusedAfterMs: number | undefined;
    for (let i = 0; i < 40 && refusedAfterMs === undefined; i++) {
      if (await refused(port)) refusedAfterMs = performance.now() - termAt;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(refusedAfterMs).toBeDefined();
    expect(refusedAfterMs!).toBeLessThan(500);

    await Promise.all(workers);
    await sleeping;
    const { code, at } = await exited;
    const inFlight = results.slice(beforeSleep);
    const timing = medianAndMax(results.slice(0, beforeSleep).map((r) => r.ms));
    console.log(`before the SIGTERM: ${beforeSleep} calls, median ${timing.median.toFixed(1)} ms, max ${timing.max.toFixed(1)} ms`);
    console.log(
      `SIGTERM under load: ${results.length} calls, ${inFlight.length} in flight or after the DEBUG SLEEP, ` +
        `new connections refused after ${refusedAfterMs!.toFixed(0)} ms, exit ${code} after ${(at - termAt).toFixed(0)} ms`,
    );
    // Every call, the 24 in flight at the SIGTERM included, got its answer.
    expect(results.filter((r) => r.outcome !== "200" && r.outcome !== "ok")).toEqual([]);
    expect(inFlight.length).toBeGreaterThanOrEqual(24);
    expect(code).toBe(0);
    expect(at - termAt).toBeLessThan(graceMs);
    expect(output).toContain("stopped");
    // Quitting Redis on the way out is no outage.
    expect(output).not.toContain("redis unreachable");
  } finally {
    child.kill("SIGKILL");
  }
}, 30_000);
