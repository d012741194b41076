/**
 * npm run bench: measures the hot path (auth status by session token) over
 * REST/HTTP1.1, Connect and gRPC against a real local redis-server, with few
 * and with many sessions stored, and counts Redis commands per call.
 *
 *   BENCH_SECONDS (default 5)   BENCH_CONCURRENCY (default 32)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair } from "jose";
import { Redis } from "ioredis";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { parseConfig } from "../src/config/config.js";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { createLogger } from "../src/observability/logger.js";
import { createApp } from "../src/server.js";
import { createRedisClient, waitUntilReady } from "../src/store/redis-client.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-bench-"));
  const redisPort = 20000 + Math.floor(Math.random() * 20000);
  const redisServer = await startRedisServer(dir, redisPort, false);
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const secret = randomBytes(24).toString("base64url");
  const config = parseConfig({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    API_CLIENTS: `bench:${secret}`,
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
    JWT_SIGNING_KEYS: JSON.stringify([{ ...(await exportJWK(privateKey)), kid: "bench" }]),
    LOG_LEVEL: "silent",
    MAX_SESSIONS_PER_USER: "10000",
  });
  const redis = createRedisClient(config.redis);
  const app = createApp(config, { redis, logger: createLogger("silent") });
  await waitUntilReady(redis, 10_000);
  await new Promise<void>((r) => app.server.listen(0, "127.0.0.1", r));
  const port = (app.server.address() as net.AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const inspector = new Redis(`redis://127.0.0.1:${redisPort}`);

  const tokens: string[] = [];
  const save = async (userId: string) => {
    const { token } = await app.core.create({ tenantId: "bench", userId, profile: { name: "Bench User", power: 100 } });
    return token;
  };
  for (let i = 0; i < 100; i++) tokens.push(await save(`user-${i}`));

  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const restCall = (token: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${baseUrl}/auth/status`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on("error", reject);
    });
  const connectClient = createClient(AuthStatusService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  const grpcClient = createClient(AuthStatusService, createGrpcTransport({ baseUrl }));
  const rpcCall = (client: typeof grpcClient) => async (token: string) => {
    const res = await client.getAuthStatus({}, { headers: { authorization: `Bearer ${token}` } });
    if (!res.valid) throw new Error("invalid");
  };

  const results: Record<string, unknown>[] = [];
  const run = async (name: string, call: (token: string) => Promise<void>, stored: number) => {
    for (let i = 0; i < 200; i++) await call(tokens[i % tokens.length]!); // warm-up
    await inspector.config("RESETSTAT");
    const latencies: number[] = [];
    const end = performance.now() + seconds * 1000;
    let errors = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let i = w; performance.now() < end; i += concurrency) {
          const t0 = performance.now();
          try {
            await call(tokens[i % tokens.length]!);
            latencies.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }),
    );
    // commandstats counts the commands a script runs as well as the script
    // call itself: round trips are the top-level calls (scripts + commands
    // sent directly), which for this path must be exactly one script call.
    const stats = await inspector.info("commandstats");
    const calls = new Map([...stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map(([, n, c]) => [n!, Number(c)]));
    const scripts = (calls.get("evalsha") ?? 0) + (calls.get("eval") ?? 0);
    const inScript = ["get", "hgetall", "hset", "pexpireat"].reduce((sum, n) => sum + (calls.get(n) ?? 0), 0);
    const other = [...calls].filter(([n]) => !["info", "config", "evalsha", "eval", "get", "hgetall", "hset", "pexpireat"].includes(n)).reduce((s, [, c]) => s + c, 0);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2);
    results.push({
      transport: name,
      sessionsStored: stored,
      callsPerSecond: Math.round(latencies.length / seconds),
      p50ms: pct(0.5),
      p99ms: pct(0.99),
      errors,
      scriptCallsPerCall: (scripts / latencies.length).toFixed(2),
      otherTopLevelCommands: other,
      commandsInsideScriptPerCall: (inScript / latencies.length).toFixed(2),
    });
  };

  await run("REST HTTP/1.1", restCall, 100);
  await run("Connect HTTP/1.1", rpcCall(connectClient), 100);
  await run("gRPC h2c", rpcCall(grpcClient), 100);
  // Many more sessions stored: the lookup cost must not change.
  const batch: Promise<string>[] = [];
  for (let i = 0; i < 20_000; i++) {
    batch.push(save(`filler-${i % 2000}`));
    if (batch.length === 500) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await run("REST HTTP/1.1", restCall, 20_100);
  await run("gRPC h2c", rpcCall(grpcClient), 20_100);

  console.table(results);
  console.log(`(${seconds}s per row, ${concurrency} concurrent callers, ${os.cpus().length} cores, node ${process.version})`);
  agent.destroy();
  inspector.disconnect();
  await app.close();
  redisServer.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
