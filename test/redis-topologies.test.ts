import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// The same service code on a Redis Cluster and behind Sentinel, each started
// here from the real redis-server binary.

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-topology-"));
  dirs.push(dir);
  return dir;
}

async function startCluster(): Promise<string> {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Cluster bus ports are port + 10000, so keep ports below 55535.
    let port = await freePort();
    while (port > 55000) port = await freePort();
    const dir = tempDir();
    const child = spawn("redis-server", [
      "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
      "--cluster-enabled", "yes", "--cluster-config-file", path.join(dir, "nodes.conf"),
    ], { stdio: "ignore" });
    children.push(child);
    ports.push(port);
  }
  await new Promise((r) => setTimeout(r, 300));
  execFileSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { stdio: "ignore" });
  // Wait until every node agrees the cluster is up.
  for (const port of ports) {
    for (let i = 0; i < 100; i++) {
      const info = execFileSync("redis-cli", ["-p", String(port), "cluster", "info"]).toString();
      if (info.includes("cluster_state:ok")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return ports.map((p) => `127.0.0.1:${p}`).join(",");
}

async function startSentinel(): Promise<string> {
  const masterPort = await freePort();
  children.push(await startRedisServer(tempDir(), masterPort, false));
  const sentinelPort = await freePort();
  const dir = tempDir();
  const conf = path.join(dir, "sentinel.conf");
  writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor sss-master 127.0.0.1 ${masterPort} 1\n`);
  const sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  children.push(sentinel);
  for (let i = 0; i < 100; i++) {
    try {
      const out = execFileSync("redis-cli", ["-p", String(sentinelPort), "sentinel", "get-master-addr-by-name", "sss-master"]).toString();
      if (out.includes(String(masterPort))) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return `127.0.0.1:${sentinelPort}`;
}

async function exercise(t: TestApp) {
  const headers = { ...t.clientA.headers, "content-type": "application/json" };
  const tokens: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers,
      body: JSON.stringify({ user_id: `topo-user-${i % 2}`, user: { name: `User ${i}` } }),
    });
    expect(res.status).toBe(200);
    tokens.push(((await res.json()) as { token: string }).token);
  }
  // Hot path by token, sliding.
  const status = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${tokens[2]}` } });
  expect(status.status).toBe(200);
  expect(((await status.json()) as { user: unknown }).user).toEqual({ name: "User 2" });
  // Tenant-wide list crosses slots.
  const list = (await (await fetch(`${t.baseUrl}/api/v1/session-storage`, { headers })).json()) as { pagination: { total: number } };
  expect(list.pagination.total).toBe(3);
  // Per-user limit script, one slot.
  const limited = await startLimitCheck(t, headers);
  expect(limited).toBe(429);
  // Delete by id, then the token no longer authenticates.
  const current = (await (await fetch(`${t.baseUrl}/api/v1/session-storage/current?user_id=topo-user-0`, { headers })).json()) as { id: string; token: string };
  expect((await fetch(`${t.baseUrl}/api/v1/session-storage/${current.id}`, { method: "DELETE", headers })).status).toBe(200);
  const after = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${current.token}` } });
  expect(after.status).toBe(401);
  // Token rotation: the old token dies, the new one works (pointers in other slots).
  const rotated = (await (await fetch(`${t.baseUrl}/api/v1/session-storage/current?user_id=topo-user-1`, { headers })).json()) as { id: string; token: string };
  const newToken = `rotated-${"x".repeat(40)}-${rotated.id}`;
  const put = await fetch(`${t.baseUrl}/api/v1/session-storage/${rotated.id}`, { method: "PUT", headers, body: JSON.stringify({ token: newToken }) });
  expect(put.status).toBe(200);
  expect((await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${rotated.token}` } })).status).toBe(401);
  expect((await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${newToken}` } })).status).toBe(200);
  // A ttl and a touch keep the pointer alive exactly as long as the session.
  expect((await fetch(`${t.baseUrl}/session-storage/sessions/${rotated.id}?ttl_seconds=90`, { method: "POST", headers })).status).toBe(204);
  expect((await fetch(`${t.baseUrl}/v1/client/sessions/${rotated.id}/touch`, { method: "POST", headers: { authorization: `Bearer ${newToken}` } })).status).toBe(200);
  // Cookie validation takes the same token path.
  const validated = await fetch(`${t.baseUrl}/api/session/validateSession`, { method: "POST", headers: { cookie: `sessionCookie=${newToken}` } });
  expect(validated.status).toBe(200);
  // Another tenant's credentials make a caller's token unknown: on Cluster the
  // pointed key's tenant is checked before the session is read or slid.
  const statusWith = (headers: Record<string, string>) =>
    fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${newToken}`, ...headers } });
  expect((await statusWith(t.clientB.headers)).status).toBe(401);
  expect((await statusWith(t.clientA.headers)).status).toBe(200);
  // Clear all of the tenant.
  const cleared = (await (await fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "DELETE", headers })).json()) as { deleted_count: number };
  expect(cleared.deleted_count).toBe(2 + 2);
  expect((await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${newToken}` } })).status).toBe(401);
}

/**
 * A minted token names its session key, so even on Cluster validating it is
 * one script on one node. The nodes are this test's own, so their
 * commandstats (commands run inside scripts included) count only the
 * service's calls; the client's cluster housekeeping is left out.
 */
async function expectOneRoundTripForMintedTokens(t: TestApp, ports: number[]) {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "topo-minted", user: { name: "Minted" } }),
  });
  const { token } = (await res.json()) as { token: string };
  const status = () => fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
  expect((await status()).status).toBe(200); // warm-up: the script loads once
  const cli = (port: number, ...args: string[]) => execFileSync("redis-cli", ["-p", String(port), ...args]).toString();
  for (const port of ports) cli(port, "config", "resetstat");
  for (let i = 0; i < 3; i++) expect((await status()).status).toBe(200);
  // Another tenant's credentials: refused from the token alone, no Redis call at all.
  const foreign = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}`, ...t.clientB.headers } });
  expect(foreign.status).toBe(401);
  const calls: Record<string, number> = {};
  for (const port of ports) {
    for (const match of cli(port, "info", "commandstats").matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const name = match[1]!;
      if (name === "info" || name.startsWith("config|") || name.startsWith("cluster|") || name.startsWith("command") || name === "ping") continue;
      calls[name] = (calls[name] ?? 0) + Number(match[2]);
    }
  }
  expect(calls).toEqual({ evalsha: 3, hgetall: 3, hset: 3, pexpireat: 3 });
}

async function startLimitCheck(t: TestApp, headers: Record<string, string>): Promise<number> {
  const save = () => fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "POST", headers, body: JSON.stringify({ user_id: "topo-limited" }) });
  const results = await Promise.all([save(), save(), save()]);
  const statuses = results.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 200, 429]);
  return statuses[2]!;
}

describe("Redis topologies", () => {
  test("Redis Cluster: save, status, list, limit, delete, clear; a minted token is one round trip", async () => {
    const nodes = await startCluster();
    const t = await startTestApp({ REDIS_CLUSTER_NODES: nodes, MAX_SESSIONS_PER_USER: "2" });
    try {
      await exercise(t);
      await expectOneRoundTripForMintedTokens(t, nodes.split(",").map((n) => Number(n.split(":")[1])));
    } finally {
      await t.close();
    }
  }, 60_000);

  test("Sentinel: save, status, list, limit, delete, clear", async () => {
    const t = await startTestApp({ REDIS_SENTINELS: await startSentinel(), REDIS_SENTINEL_NAME: "sss-master", MAX_SESSIONS_PER_USER: "2" });
    try {
      await exercise(t);
    } finally {
      await t.close();
    }
  }, 60_000);
});
