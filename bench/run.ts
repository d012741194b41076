/**
 * npm run bench: server CPU per call on the hot path (a session token's
 * status: REST GET /auth/status, Connect JSON, gRPC GetAuthStatus), next to
 * bare node:http / grpc-js servers doing the same Redis work, with 1,000 and
 * 100,000 sessions stored (1,000,000 with --million or BENCH_MILLION=1).
 *
 * Core 0: the service and the bare servers (one loaded at a time); core 1:
 * redis-server and the load generator, each its own process. Variants are
 * interleaved over rounds; the table shows medians over rounds. The figure
 * that counts is the server's CPU time per call (/proc/<pid>/stat), which
 * depends far less than calls/s on what else the machine is doing.
 *
 *   --json <file>   also write the results as JSON
 *   BENCH_ROUNDS (5), BENCH_SECONDS (4), BENCH_WARMUP_SECONDS (2),
 *   BENCH_SIZES (e.g. 1000,20000: instead of the sizes above, for a quick look)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { bareConnectionName } from "./bare-lookup.js";
import { seedBare } from "./bare-seed.js";
import { onEnd, pinned, spawnOn } from "./children.js";
import { runLoad, type LoadSpec } from "./load-protocol.js";
import { freePort, waitForPort } from "./net-wait.js";
import { cpuMicros } from "./proc-cpu.js";
import { benchConnectionName, commandCounts, commandDelta, countTopLevel, memoryByType, netBytes, serverPid, usedMemory, type TypeUsage } from "./redis-stats.js";
import { startRedis } from "./redis-server.js";
import { median, table, type Row, type Sample } from "./report.js";
import { seedService } from "./seed-service.js";
import { ensureBuild, startService } from "./service.js";

const args = process.argv.slice(2);
const million = args.includes("--million") || process.env.BENCH_MILLION === "1";
const jsonFile = args.includes("--json") ? (args[args.indexOf("--json") + 1] ?? "bench-results.json") : undefined;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const inFlight = 50;
const censusCalls = 2000;
const sizes = process.env.BENCH_SIZES
  ? process.env.BENCH_SIZES.split(",").map(Number).sort((a, b) => a - b)
  : [1_000, 100_000, ...(million ? [1_000_000] : [])];

type Server = "service" | "bare-http" | "bare-grpc" | "bare-h2";
interface Variant {
  name: string;
  server: Server;
  baseline?: string;
  load: Omit<LoadSpec, "tokensFile" | "inFlight" | "seconds" | "amount">;
}

const log = (message: string) => console.error(`[bench] ${message}`);

/** ~1,000 tokens spread over everything stored, so calls do not all hit the newest sessions. */
const spread = (tokens: string[], n = 1000) =>
  Array.from({ length: Math.min(n, tokens.length) }, (_, i) => tokens[Math.floor((i * tokens.length) / Math.min(n, tokens.length))]!);

async function startBare(script: string, redisUrl: string, hmacKey: Buffer) {
  const port = await freePort();
  const child = spawnOn(0, process.execPath, ["--enable-source-maps", new URL(script, import.meta.url).pathname], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL: redisUrl, PORT: String(port), BARE_HMAC_KEY: hmacKey.toString("base64") },
  });
  await waitForPort(port, child, script);
  return { pid: child.pid!, port };
}

async function main() {
  // Other work on the machine shows in calls/s and latency far more than in CPU-µs/call.
  const loadAtStart = os.loadavg()[0]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-bench-"));
  onEnd(() => rmSync(dir, { recursive: true, force: true }));
  ensureBuild();

  const redisUrl = await startRedis(dir);
  const redis = new Redis(redisUrl, { connectionName: benchConnectionName });
  const emptyMemory = await usedMemory(redis);
  const redisPid = await serverPid(redis);
  const service = await startService(redisUrl, dir);
  const bareKey = randomBytes(32);
  const bareHttp = await startBare("./bare-http-server.js", redisUrl, bareKey);
  const bareGrpc = await startBare("./bare-grpc-server.js", redisUrl, bareKey);
  const bareH2 = await startBare("./bare-h2-server.js", redisUrl, bareKey);
  const pids: Record<Server, number> = { service: service.pid, "bare-http": bareHttp.pid, "bare-grpc": bareGrpc.pid, "bare-h2": bareH2.pid };
  log(`redis ${redisUrl}, service :${service.port} (pid ${service.pid}), bare http :${bareHttp.port}, bare grpc :${bareGrpc.port}, bare http2 :${bareH2.port}`);

  const connectPath = "/sessionstorage.v1.AuthStatusService/GetAuthStatus";
  const variants: Variant[] = [
    { name: "REST GET /auth/status", server: "service", baseline: "bare node:http GET", load: { kind: "http", target: `http://127.0.0.1:${service.port}/auth/status` } },
    { name: "bare node:http GET", server: "bare-http", load: { kind: "http", target: `http://127.0.0.1:${bareHttp.port}/auth/status` } },
    { name: "Connect JSON POST", server: "service", baseline: "bare node:http POST", load: { kind: "http", method: "POST", body: "{}", target: `http://127.0.0.1:${service.port}${connectPath}` } },
    { name: "bare node:http POST", server: "bare-http", load: { kind: "http", method: "POST", body: "{}", target: `http://127.0.0.1:${bareHttp.port}${connectPath}` } },
    { name: "gRPC GetAuthStatus (h2c)", server: "service", baseline: "bare grpc-js", load: { kind: "grpc", target: `127.0.0.1:${service.port}` } },
    { name: "bare grpc-js", server: "bare-grpc", load: { kind: "grpc", target: `127.0.0.1:${bareGrpc.port}` } },
    // The floor under both gRPC rows: gRPC framing on node:http2, no gRPC library (no ratio).
    { name: "bare node:http2 (no gRPC library)", server: "bare-h2", load: { kind: "grpc", target: `127.0.0.1:${bareH2.port}` } },
  ];

  // Calls/s of each variant, last seen: a window is a number of calls, ~`seconds` long.
  // (A timed autocannon run drops the calls in flight at its end, which the
  // server did do: counting would then miss up to 50 calls' CPU.)
  const rate = new Map<string, number>();

  /** One measured window: server CPU and Redis commands from "go" until the last reply. */
  const measure = async (v: Variant, tokensFile: string): Promise<Sample> => {
    let cpuBefore = 0;
    let redisCpuBefore = 0;
    let commandsBefore = new Map<string, number>();
    let netBefore = { input: 0, output: 0 };
    const amount = Math.max(inFlight * 20, Math.round(rate.get(v.name)! * seconds));
    const r = await runLoad({ ...v.load, tokensFile, inFlight, amount }, async () => {
      commandsBefore = await commandCounts(redis);
      netBefore = await netBytes(redis);
      cpuBefore = cpuMicros(pids[v.server]);
      redisCpuBefore = cpuMicros(redisPid);
    });
    const cpu = cpuMicros(pids[v.server]) - cpuBefore;
    const redisCpu = cpuMicros(redisPid) - redisCpuBefore;
    const commands = commandDelta(commandsBefore, await commandCounts(redis));
    const net = await netBytes(redis);
    const calls = r.ok + r.failures; // a failed call is work the server did too
    rate.set(v.name, r.ok / r.elapsedSeconds);
    if (r.failures > 0) log(`${v.name}: ${r.failures} failed calls, e.g. ${r.failureSamples.join(" | ")}`);
    return {
      callsPerSecond: r.ok / r.elapsedSeconds, p50ms: r.p50ms, p99ms: r.p99ms, cpuMicrosPerCall: cpu / calls,
      redisCommandsPerCall: commands.all / calls, redisScriptsPerCall: commands.scripts / calls,
      redisCpuMicrosPerCall: redisCpu / calls, redisBytesInPerCall: (net.input - netBefore.input) / calls,
      redisBytesOutPerCall: (net.output - netBefore.output) / calls, failures: r.failures,
    };
  };

  const rows: Row[] = [];
  let stored = 0;
  let serviceTokens: string[] = [];
  let bareTokens: string[] = [];
  let serviceBytes = 0;
  let bareBytes = 0;
  for (const size of sizes) {
    log(`storing sessions ${stored}..${size} through the REST API`);
    const seedStart = performance.now();
    let before = await usedMemory(redis);
    serviceTokens = serviceTokens.concat(await seedService(service, stored, size));
    log(`stored ${size - stored} sessions in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    serviceBytes += (await usedMemory(redis)) - before;
    before = await usedMemory(redis);
    bareTokens = bareTokens.concat(await seedBare(redis, bareKey, stored, size));
    bareBytes += (await usedMemory(redis)) - before;
    stored = size;
    log("sampling Redis memory by key type");
    const memory: Record<"service" | "bare", TypeUsage[]> = {
      service: await memoryByType(redis, (k) => !k.startsWith("bare:")),
      bare: await memoryByType(redis, (k) => k.startsWith("bare:")),
    };
    const tokensFiles = { service: path.join(dir, "service-tokens.json"), bare: path.join(dir, "bare-tokens.json") };
    writeFileSync(tokensFiles.service, JSON.stringify(spread(serviceTokens)));
    writeFileSync(tokensFiles.bare, JSON.stringify(spread(bareTokens)));
    const tokensOf = (v: Variant) => (v.server === "service" ? tokensFiles.service : tokensFiles.bare);

    // Warm-up (JIT, connections), then count the top-level Redis calls per call with MONITOR.
    const topLevel = new Map<string, number>();
    for (const v of variants) {
      log(`${v.name}: warm-up ${warmupSeconds} s, then ${censusCalls} calls under MONITOR`);
      const warm = await runLoad({ ...v.load, tokensFile: tokensOf(v), inFlight, seconds: warmupSeconds }, async () => {});
      rate.set(v.name, warm.ok / warm.elapsedSeconds);
      let calls = 0;
      // The measured server's connections: the service's unnamed ones (its index sweeper has its own, named), or the bare servers'.
      const ours = (name: string) => (v.server === "service" ? name === "" : name === bareConnectionName);
      const seen = await countTopLevel(redisUrl, async () => {
        const r = await runLoad({ ...v.load, tokensFile: tokensOf(v), inFlight, amount: censusCalls }, async () => {});
        calls = r.ok + r.failures;
      }, ours);
      topLevel.set(v.name, seen / calls);
    }

    const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so that a slow drift does not favour either side of a pair.
      for (const v of round % 2 ? [...variants].reverse() : variants) {
        const s = await measure(v, tokensOf(v));
        samples.get(v.name)!.push(s);
        log(`${size} sessions, round ${round + 1}/${rounds}, ${v.name}: ${Math.round(s.callsPerSecond)}/s, ${s.cpuMicrosPerCall.toFixed(0)} CPU-µs/call, p99 ${s.p99ms.toFixed(2)} ms`);
      }
    }

    for (const v of variants) {
      const mine = samples.get(v.name)!;
      const base = v.baseline ? samples.get(v.baseline)! : undefined;
      const bare = v.server !== "service";
      rows.push({
        variant: v.name,
        baseline: v.baseline,
        sessions: size,
        callsPerSecond: median(mine.map((s) => s.callsPerSecond)),
        p50ms: median(mine.map((s) => s.p50ms)),
        p99ms: median(mine.map((s) => s.p99ms)),
        cpuMicrosPerCall: median(mine.map((s) => s.cpuMicrosPerCall)),
        cpuRatio: base && median(mine.map((s, i) => s.cpuMicrosPerCall / base[i]!.cpuMicrosPerCall)),
        p99Ratio: base && median(mine.map((s, i) => s.p99ms / base[i]!.p99ms)),
        redisTopLevelPerCall: topLevel.get(v.name)!,
        redisCommandsPerCall: median(mine.map((s) => s.redisCommandsPerCall)),
        redisCpuMicrosPerCall: median(mine.map((s) => s.redisCpuMicrosPerCall)),
        redisBytesInPerCall: median(mine.map((s) => s.redisBytesInPerCall)),
        redisBytesOutPerCall: median(mine.map((s) => s.redisBytesOutPerCall)),
        failures: mine.reduce((sum, s) => sum + s.failures, 0),
        redisBytesPerSession: (bare ? bareBytes : serviceBytes) / size,
        memoryByType: bare ? memory.bare : memory.service,
      });
    }
  }

  const info = await redis.info("server");
  const machine = {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
    pinned,
    rounds,
    secondsPerWindow: seconds,
    inFlight,
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0]! },
  };
  console.log(table(rows));
  console.log(
    `\n${machine.cpus} cores (${machine.cpuModel}), node ${machine.node}, redis ${machine.redis}; ` +
      (pinned ? "taskset: server on core 0, redis-server and load generator on core 1" : "taskset NOT used (no taskset or one core): processes share cores") +
      `; load average ${machine.loadAverage.atStart.toFixed(1)} at start, ${machine.loadAverage.atEnd.toFixed(1)} at end` +
      `; ${rounds} rounds × ~${seconds} s per variant, ${inFlight} calls in flight, medians over rounds. ` +
      `Redis B/session: used_memory growth while storing ÷ sessions (service ${Math.round(serviceBytes / stored)}, bare ${Math.round(bareBytes / stored)}); empty Redis ${emptyMemory} B.`,
  );
  const failures = rows.reduce((sum, r) => sum + r.failures, 0);
  if (failures > 0) console.log(`\n${failures} calls FAILED (see [bench] lines above): the figures above are not valid.`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ machine, rows }, null, 2));
  redis.disconnect();
  process.exit(failures > 0 ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
