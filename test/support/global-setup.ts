import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startRedisServer } from "../../src/local/start-redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Starts one real redis-server for the test run, on a free port, in a temporary folder. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-redis-"));
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const redis = await startRedisServer(dir, port, false);
  project.provide("redisUrl", `redis://127.0.0.1:${port}`);
  return async () => {
    redis.kill("SIGTERM");
    await new Promise((resolve) => redis.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  };
}
