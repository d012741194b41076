import { writeFileSync, mkdirSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { expect, test } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { startReplicatedCluster } from "./support/start-replicated-cluster.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// A primary of a Redis Cluster (3 primaries, 1 replica each, real
// redis-server processes, cluster-node-timeout 1 s) is killed with SIGKILL
// under a load of creates and validations, over REST and gRPC. Its replica
// is promoted; the killed node is restarted and rejoins as the new
// primary's replica. What the test shows, run without and with
// REDIS_WAIT_REPLICAS=1:
// - every call is answered (none hangs), errors only as 503 / UNAVAILABLE,
//   none before the kill, none after the shard has recovered;
// - how many acknowledged creates were lost (acknowledged, not found
//   afterwards): asynchronous replication may lose the last writes a killed
//   primary acknowledged; with the wait setting none may be lost.
// It runs its own cluster, so it runs in the single-Redis pass only
// (test/support/not-on-cluster.ts).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How one call ended, and when (ms since the run began). */
interface Call {
  readonly kind: "create" | "validate";
  readonly protocol: "rest" | "grpc";
  readonly start: number;
  readonly end: number;
  /** "ok", or the HTTP status / gRPC code name of a failure, or "hang: …" / "error: …" when no answer came in time. */
  readonly outcome: string;
  readonly createdId?: string;
}

const clientTimeoutMs = 5_000;
const creators = 8;
const validators = 8;

interface FailoverReport {
  readonly wait: boolean;
  readonly promotedMs: number;
  readonly replicaBackMs: number;
  readonly calls: number;
  readonly createsPerSecondBefore: number;
  readonly createP50MsBefore: number;
  readonly validateP50MsBefore: number;
  readonly errors: number;
  readonly errorOutcomes: Record<string, number>;
  readonly firstErrorMs: number | null;
  readonly lastErrorMs: number | null;
  /** From the kill to the last error answered. */
  readonly windowMs: number;
  /** The longest any call took to be answered. */
  readonly maxCallMs: number;
  readonly acknowledgedCreates: number;
  readonly lostCreates: number;
  /** The service's error log lines (a call answered INTERNAL logs its cause). */
  readonly errorLogs: string[];
  /** WAIT commands the surviving nodes ran (the killed node's count is gone with it). */
  readonly waitCommands: number;
}

async function failover(wait: boolean): Promise<{ report: FailoverReport; calls: Call[]; t0: number; killAt: number; promotedAt: number; replicaBackAt: number }> {
  const cluster = await startReplicatedCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeoutMs: 1000 });
  let t: TestApp | undefined;
  try {
    t = await startTestApp({ REDIS_CLUSTER_NODES: cluster.nodes, LOG_LEVEL: "warn", REDIS_WAIT_REPLICAS: wait ? "1" : "0", REDIS_WAIT_TIMEOUT_MS: "500" });
    const app = t;
    const transport = createGrpcTransport({ baseUrl: app.baseUrl });
    const storage = createClient(SessionStorageService, transport);
    const auth = createClient(AuthStatusService, transport);
    const grpcHeaders = { clientid: app.clientA.id, clientsecret: app.clientA.secret };
    const restHeaders = { ...app.clientA.headers, "content-type": "application/json" };

    // Sessions stored (and replicated) well before the kill: what validations check.
    const known: string[] = [];
    for (let i = 0; i < 48; i++) {
      const res = await fetch(`${app.baseUrl}/api/v1/session-storage`, { method: "POST", headers: restHeaders, body: JSON.stringify({ user_id: `known-${i}` }) });
      expect(res.status).toBe(200);
      known.push(((await res.json()) as { token: string }).token);
    }
    await sleep(200);

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const calls: Call[] = [];
    let running = true;
    let n = 0;

    const timed = async (kind: Call["kind"], protocol: Call["protocol"], run: () => Promise<{ outcome: string; createdId?: string }>) => {
      const start = now();
      let result: { outcome: string; createdId?: string };
      try {
        result = await run();
      } catch (e) {
        if (e instanceof ConnectError) result = { outcome: e.code === Code.DeadlineExceeded ? "hang: deadline exceeded" : Code[e.code] };
        else if (e instanceof Error && e.name === "TimeoutError") result = { outcome: "hang: no answer" };
        else result = { outcome: `error: ${e instanceof Error ? e.message : String(e)}` };
      }
      calls.push({ kind, protocol, start, end: now(), ...result });
    };
    const create = (i: number) =>
      i % 2 === 0
        ? timed("create", "rest", async () => {
            const res = await fetch(`${app.baseUrl}/api/v1/session-storage`, {
              method: "POST",
              headers: restHeaders,
              body: JSON.stringify({ user_id: `load-${i}` }),
              signal: AbortSignal.timeout(clientTimeoutMs),
            });
            const body = (await res.json()) as { id?: string };
            return res.status === 200 ? { outcome: "ok", createdId: body.id } : { outcome: String(res.status) };
          })
        : timed("create", "grpc", async () => {
            const reply = await storage.saveSession({ userId: `load-${i}` }, { headers: grpcHeaders, timeoutMs: clientTimeoutMs });
            return { outcome: "ok", createdId: reply.session?.id };
          });
    const validate = (i: number) => {
      const token = known[i % known.length]!;
      return i % 2 === 0
        ? timed("validate", "rest", async () => {
            const res = await fetch(`${app.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(clientTimeoutMs) });
            await res.arrayBuffer();
            return { outcome: res.status === 200 ? "ok" : String(res.status) };
          })
        : timed("validate", "grpc", async () => {
            const reply = await auth.getAuthStatus({}, { headers: { authorization: `Bearer ${token}` }, timeoutMs: clientTimeoutMs });
            // A known session found invalid would be a lost session, not an outage.
            return { outcome: reply.valid ? "ok" : "valid: false" };
          });
    };
    const workers = [
      ...Array.from({ length: creators }, async () => {
        while (running) await create(n++);
      }),
      ...Array.from({ length: validators }, async () => {
        while (running) await validate(n++);
      }),
    ];

    await sleep(1_500);
    const shard = cluster.shards[0]!;
    const killAt = now();
    await cluster.kill(shard.primary);
    await cluster.promoted(shard.replica);
    const promotedAt = now();
    // The killed node comes back, as the new primary's replica (what an
    // orchestrator does); until then that shard has no replica to wait for.
    await cluster.restart(shard.primary);
    await cluster.replicating(shard.primary);
    const replicaBackAt = now();
    await sleep(2_500);
    running = false;
    await Promise.all(workers);

    // Every acknowledged create is looked up afterwards: not found is lost.
    const acknowledged = calls.filter((c) => c.kind === "create" && c.outcome === "ok").map((c) => c.createdId!);
    let lost = 0;
    const queue = [...acknowledged];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        const res = await fetch(`${app.baseUrl}/api/v1/session-storage/${encodeURIComponent(id)}`, { headers: app.clientA.headers });
        await res.arrayBuffer();
        expect([200, 404]).toContain(res.status);
        if (res.status === 404) lost++;
      }
    }));

    const errors = calls.filter((c) => c.outcome !== "ok");
    const before = calls.filter((c) => c.end < killAt);
    const p50 = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const report: FailoverReport = {
      wait,
      promotedMs: Math.round(promotedAt - killAt),
      replicaBackMs: Math.round(replicaBackAt - killAt),
      calls: calls.length,
      createsPerSecondBefore: Math.round(before.filter((c) => c.kind === "create").length / (killAt / 1000)),
      createP50MsBefore: Math.round(p50(before.filter((c) => c.kind === "create").map((c) => c.end - c.start)) * 10) / 10,
      validateP50MsBefore: Math.round(p50(before.filter((c) => c.kind === "validate").map((c) => c.end - c.start)) * 10) / 10,
      errors: errors.length,
      errorOutcomes: Object.fromEntries([...new Set(errors.map((e) => `${e.kind} ${e.protocol} ${e.outcome}`))].map((k) => [k, errors.filter((e) => `${e.kind} ${e.protocol} ${e.outcome}` === k).length])),
      firstErrorMs: errors.length ? Math.round(Math.min(...errors.map((e) => e.start)) - killAt) : null,
      lastErrorMs: errors.length ? Math.round(Math.max(...errors.map((e) => e.end)) - killAt) : null,
      windowMs: errors.length ? Math.round(Math.max(...errors.map((e) => e.end)) - killAt) : 0,
      maxCallMs: Math.round(Math.max(...calls.map((c) => c.end - c.start))),
      acknowledgedCreates: acknowledged.length,
      lostCreates: lost,
      waitCommands: await cluster.commandCalls("wait"),
      errorLogs: app.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50),
    };
    return { report, calls, t0, killAt, promotedAt, replicaBackAt };
  } finally {
    await t?.close().catch(() => undefined);
    await cluster.stop();
  }
}

function record(report: FailoverReport) {
  const line =
    `[cluster failover] REDIS_WAIT_REPLICAS=${report.wait ? 1 : 0}: replica promoted ${report.promotedMs} ms after the kill, ` +
    `killed node back as a replica at ${report.replicaBackMs} ms; ${report.calls} calls, ${report.errors} errors ` +
    `${JSON.stringify(report.errorOutcomes)} (calls started ${report.firstErrorMs} ms to answered ${report.lastErrorMs} ms after the kill: ` +
    `window ${report.windowMs} ms), slowest answer ${report.maxCallMs} ms; acknowledged creates ${report.acknowledgedCreates}, lost ${report.lostCreates}; WAIT commands ${report.waitCommands}; ` +
    `before the kill: ${report.createsPerSecondBefore} creates/s, create p50 ${report.createP50MsBefore} ms, validation p50 ${report.validateP50MsBefore} ms`;
  console.log(line);
  for (const l of report.errorLogs) console.log(l);
  mkdirSync("test-results", { recursive: true });
  writeFileSync(`test-results/cluster-failover-wait-${report.wait ? 1 : 0}.json`, `${JSON.stringify(report, null, 2)}\n`);
}

// After the shard is served again, ioredis has to learn the new slot owner
// (a MOVED or its slot refresh): calls started later than this fail no more.
const settleMs = 1_000;

test("SIGKILL of a primary under load: only 503 / UNAVAILABLE during the failover, none after; acknowledged creates lost without waiting for a replica are counted", async () => {
  const { report, calls, killAt, promotedAt } = await failover(false);
  record(report);
  expect(calls.filter((c) => c.outcome.startsWith("hang") || c.outcome.startsWith("error"))).toEqual([]);
  expect(calls.filter((c) => c.outcome !== "ok" && c.outcome !== "503" && c.outcome !== "Unavailable")).toEqual([]);
  expect(calls.filter((c) => c.outcome !== "ok" && c.end < killAt)).toEqual([]);
  expect(calls.filter((c) => c.outcome !== "ok" && c.start > promotedAt + settleMs)).toEqual([]);
  expect(calls.filter((c) => c.start > promotedAt + settleMs && c.outcome === "ok").length).toBeGreaterThan(10);
  // Off by default: no write waits.
  expect(report.waitCommands).toBe(0);
}, 45_000);

test("with REDIS_WAIT_REPLICAS=1 the same failover loses no acknowledged create; writes of the shard without a replica are 503 until one is back", async () => {
  const { report, calls, killAt, promotedAt, replicaBackAt } = await failover(true);
  record(report);
  expect(calls.filter((c) => c.outcome.startsWith("hang") || c.outcome.startsWith("error"))).toEqual([]);
  expect(calls.filter((c) => c.outcome !== "ok" && c.outcome !== "503" && c.outcome !== "Unavailable")).toEqual([]);
  expect(calls.filter((c) => c.outcome !== "ok" && c.end < killAt)).toEqual([]);
  // Validations do not wait for replicas: they recover with the promotion.
  expect(calls.filter((c) => c.kind === "validate" && c.outcome !== "ok" && c.start > promotedAt + settleMs)).toEqual([]);
  // Creates on the promoted primary's slots need its replica back.
  expect(calls.filter((c) => c.outcome !== "ok" && c.start > replicaBackAt + settleMs)).toEqual([]);
  expect(report.lostCreates).toBe(0);
  // Each create waits twice (its index entry, then the session), on the node that took each write;
  // what the killed node counted before the kill is gone with it.
  expect(report.waitCommands).toBeGreaterThan(report.acknowledgedCreates);
}, 45_000);
