import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** RedisClusterProcesses is a Redis Cluster of real redis-server processes started by a test run. */
export interface RedisClusterProcesses {
  /** "host:port,…" of every primary, as REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string;
  readonly ports: readonly number[];
  /** Kills every node and removes their folders. */
  stop(): Promise<void>;
}

/**
 * startRedisCluster runs `primaries` cluster-enabled redis-servers (no
 * replicas) in a temporary folder, joins them with `redis-cli --cluster
 * create` and resolves once every node reports cluster_state:ok.
 */
export async function startRedisCluster(primaries = 3): Promise<RedisClusterProcesses> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-cluster-"));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => (c.once("exit", r), c.kill("SIGKILL"))))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < primaries; i++) {
      const port = await freeClusterPort(ports);
      const child = spawn(
        "redis-server",
        [
          "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
          // One folder for all nodes: each keeps its own cluster config file.
          "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`,
        ],
        { stdio: ["ignore", "ignore", "inherit"] },
      );
      children.push(child);
      ports.push(port);
    }
    await Promise.all(ports.map((port) => answersPing(port)));
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    await Promise.all(ports.map((port) => clusterOk(port)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes: ports.map((p) => `127.0.0.1:${p}`).join(","), ports, stop };
}

/** A free port whose cluster bus port (port + 10000) is a valid port too. */
export async function freeClusterPort(taken: readonly number[]): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    if (port < 55000 && !taken.includes(port)) return port;
  }
}

async function answersPing(port: number): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; ) {
    try {
      const { stdout } = await run("redis-cli", ["-p", String(port), "ping"], { timeout: 2_000 });
      if (stdout.includes("PONG")) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function clusterOk(port: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; ; ) {
    const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"], { timeout: 2_000 });
    if (stdout.includes("cluster_state:ok")) return;
    if (Date.now() > deadline) throw new Error(`cluster node on port ${port} never reported cluster_state:ok`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
