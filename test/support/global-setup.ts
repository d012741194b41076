import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startRedisServer } from "../../src/local/start-redis-server.js";
import { startRedisCluster } from "./start-redis-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared redis-server; "" when the run uses a Cluster. */
    redisUrl: string;
    /** "host:port,…" of the shared Cluster's primaries with TEST_REDIS=cluster; "" otherwise. */
    redisClusterNodes: string;
  }
}

/**
 * Starts the Redis the whole run shares: one real redis-server on a free
 * port in a temporary folder, or with TEST_REDIS=cluster a 3-primary Redis
 * Cluster of real redis-servers (see vitest.config.ts for the files that
 * do not run then).
 */
export default async function setup(project: TestProject) {
  if (process.env.TEST_REDIS === "cluster") {
    const cluster = await startRedisCluster(3);
    project.provide("redisUrl", "");
    project.provide("redisClusterNodes", cluster.nodes);
    return () => cluster.stop();
  }
  if (process.env.TEST_REDIS && process.env.TEST_REDIS !== "single") throw new Error(`TEST_REDIS must be "single" or "cluster", not ${process.env.TEST_REDIS}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-redis-"));
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const redis = await startRedisServer(dir, port, false);
  project.provide("redisUrl", `redis://127.0.0.1:${port}`);
  project.provide("redisClusterNodes", "");
  return async () => {
    redis.kill("SIGTERM");
    await new Promise((resolve) => redis.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  };
}
