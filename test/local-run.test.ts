import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import { processAlive } from "../src/local/process-liveness.js";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { exitWithin, killLeftovers, redisServersIn, startService, type ServiceProcess } from "./support/local-run-processes.js";

// A local run (no REDIS_URL) on real processes: the built service and its
// redis-server, killed, restarted, doubled and given a busy port or a broken AOF.

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-local-"));
  dirs.push(dir);
  return dir;
};
// Whatever a test left running (it failed half way) is killed before the next one.
afterEach(() => killLeftovers(dirs));
afterAll(() => {
  killLeftovers(dirs);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function apiClient(dir: string) {
  const secrets = JSON.parse(readFileSync(path.join(dir, "secrets.json"), "utf8")) as { API_CLIENTS: string };
  const [id, secret] = secrets.API_CLIENTS.split(":");
  return { ClientID: id!, ClientSecret: secret! };
}

async function createSession(port: number, dir: string, userId: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...apiClient(dir), "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

const statusOf = async (port: number, token: string) =>
  (await fetch(`http://127.0.0.1:${port}/auth/status`, { headers: { authorization: `Bearer ${token}` } })).status;

const redisPortIn = (p: ServiceProcess) => Number(/(?:redis-server on|left on) 127\.0\.0\.1:(\d+)/.exec(p.output())?.[1]);

async function stopCleanly(p: ServiceProcess) {
  p.child.kill("SIGTERM");
  expect(await exitWithin(p), p.output()).toBe(0);
}

test("after the service is SIGKILLed, the next start adopts its redis-server (never a second one), and every session survives a clean restart", async () => {
  const dir = tempDir();
  const redisDir = path.join(dir, "redis");

  const first = startService({ DATA_DIR: dir });
  const port1 = await first.port();
  const before = [];
  for (let i = 0; i < 5; i++) before.push(await createSession(port1, dir, `before-${i}`));
  const [orphan] = redisServersIn(redisDir);
  expect(redisServersIn(redisDir)).toHaveLength(1);
  const redisPort = redisPortIn(first);

  first.child.kill("SIGKILL");
  await first.exited;
  // Its redis-server outlives it: SIGKILL leaves no chance to stop it.
  expect(redisServersIn(redisDir)).toEqual([orphan]);

  const second = startService({ DATA_DIR: dir });
  const port2 = await second.port();
  expect(second.output()).toContain(`adopted the redis-server (pid ${orphan})`);
  expect(redisServersIn(redisDir)).toEqual([orphan]);
  expect(redisPortIn(second)).toBe(redisPort);
  const after = [];
  for (let i = 0; i < 5; i++) after.push(await createSession(port2, dir, `after-${i}`));
  for (const token of before) expect(await statusOf(port2, token)).toBe(200);
  expect(redisServersIn(redisDir)).toEqual([orphan]);

  // A clean stop shuts the adopted server down too, and gives the directory up.
  await stopCleanly(second);
  expect(redisServersIn(redisDir)).toEqual([]);
  expect(processAlive(orphan!)).toBe(false); // gone, or a zombie no one reaped
  expect(existsSync(path.join(dir, "local-run.lock"))).toBe(false);
  expect(readFileSync(path.join(redisDir, "redis.log"), "utf8")).toMatch(/fsync\(\) on the AOF|ready to exit/);

  // A third start: a fresh redis-server on the same port, reading the AOF both runs wrote.
  const third = startService({ DATA_DIR: dir });
  const port3 = await third.port();
  expect(third.output()).not.toContain("adopted");
  expect(redisPortIn(third)).toBe(redisPort);
  expect(redisServersIn(redisDir)).toHaveLength(1);
  for (const token of [...before, ...after]) expect(await statusOf(port3, token)).toBe(200);
  await stopCleanly(third);
  expect(redisServersIn(redisDir)).toEqual([]);
}, 60_000);

test("a second service on the same DATA_DIR refuses to start, naming the running one, and the first keeps serving", async () => {
  const dir = tempDir();
  const first = startService({ DATA_DIR: dir });
  const port = await first.port();
  const token = await createSession(port, dir, "first");

  const second = startService({ DATA_DIR: dir });
  const code = await exitWithin(second);
  expect(code, second.output()).not.toBe(0);
  expect(code).not.toBe("running");
  expect(second.output()).toContain(`DATA_DIR ${dir} is in use by another local run (pid ${first.child.pid}`);
  expect(second.output()).toContain("Stop that service first, or give this one its own DATA_DIR");
  expect(second.output()).not.toMatch(/\n\s+at /);

  // The refused start touched nothing: one redis-server, the first still serves and stores.
  expect(redisServersIn(path.join(dir, "redis"))).toHaveLength(1);
  expect(await statusOf(port, token)).toBe(200);
  expect(await statusOf(port, await createSession(port, dir, "first-again"))).toBe(200);
  expect(existsSync(path.join(dir, "local-run.lock"))).toBe(true);
  await stopCleanly(first);
}, 60_000);

test("a Redis port held by another program or another redis-server is never taken for ours", async () => {
  // A plain TCP listener on the requested port.
  const busy = net.createServer((socket) => socket.end());
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const busyPort = (busy.address() as net.AddressInfo).port;
  const foreignDir = tempDir();
  try {
    const dir = tempDir();
    const p = startService({ DATA_DIR: dir, LOCAL_REDIS_PORT: String(busyPort) });
    expect(await exitWithin(p), p.output()).toBe(1);
    expect(p.output()).toContain(`port ${busyPort} is in use by another program`);
    expect(redisServersIn(path.join(dir, "redis"))).toEqual([]);
    expect(existsSync(path.join(dir, "local-run.lock"))).toBe(false);

    // Another redis-server on the port this directory recorded at its first start.
    const home = tempDir();
    const first = startService({ DATA_DIR: home });
    await first.port();
    const recorded = redisPortIn(first);
    expect(readFileSync(path.join(home, "redis", "redis.port"), "utf8").trim()).toBe(String(recorded));
    await stopCleanly(first);
    const foreign = await startRedisServer(foreignDir, recorded, false);
    const again = startService({ DATA_DIR: home });
    expect(await exitWithin(again), again.output()).toBe(1);
    expect(again.output()).toContain(`port ${recorded} (this data directory's Redis port, recorded in`);
    expect(again.output()).toContain(`another redis-server (pid ${foreign.pid}`);
    expect(redisServersIn(path.join(home, "redis"))).toEqual([]);
    expect(foreign.exitCode).toBe(null); // left alone

    // And the readiness probe itself: a redis-server whose port is taken fails with Redis's own
    // message instead of taking the listener there (here the other Redis) for itself.
    const probeDir = tempDir();
    await expect(startRedisServer(probeDir, recorded, false)).rejects.toThrow(/Address already in use|bind/i);
    expect(redisServersIn(probeDir)).toEqual([]);
    await expect(startRedisServer(probeDir, busyPort, false)).rejects.toThrow(/Address already in use|bind/i);
  } finally {
    busy.close();
  }
}, 60_000);

test("a redis-server that cannot start (a corrupt AOF manifest) stops the start with Redis's own message", async () => {
  const dir = tempDir();
  const first = startService({ DATA_DIR: dir });
  await first.port();
  await stopCleanly(first);
  const manifest = path.join(dir, "redis", "appendonlydir", "appendonly.aof.manifest");
  expect(existsSync(manifest)).toBe(true);
  writeFileSync(manifest, "this is not a manifest\n");

  const p = startService({ DATA_DIR: dir });
  expect(await exitWithin(p), p.output()).toBe(1);
  expect(p.output()).toMatch(/redis-server exited \(code 1\) before serving port \d+; its log .*redis\.log ends with:/);
  expect(p.output()).toContain("Invalid AOF manifest file format");
  expect(p.output()).not.toMatch(/\n\s+at /);
  expect(redisServersIn(path.join(dir, "redis"))).toEqual([]);
  expect(existsSync(path.join(dir, "local-run.lock"))).toBe(false);
}, 60_000);

test("a redis-server left on the directory that does not prove to be its server is not adopted, and no second one is started", async () => {
  const dir = tempDir();
  const redisDir = path.join(dir, "redis");
  const first = startService({ DATA_DIR: dir });
  const port = await first.port();
  const token = await createSession(port, dir, "kept");
  const [orphan] = redisServersIn(redisDir);
  first.child.kill("SIGKILL");
  await first.exited;
  // The recorded port no longer leads to it (edited, say): it cannot be proven to serve this directory.
  const portFile = path.join(redisDir, "redis.port");
  const recorded = readFileSync(portFile, "utf8");
  writeFileSync(portFile, "1\n");

  const refused = startService({ DATA_DIR: dir });
  expect(await exitWithin(refused), refused.output()).toBe(1);
  expect(refused.output()).toContain(`a redis-server (pid ${orphan}`);
  expect(refused.output()).toContain(`is still running on ${redisDir}`);
  expect(refused.output()).toContain(`Stop it (kill ${orphan}`);
  expect(redisServersIn(redisDir)).toEqual([orphan]);
  expect(existsSync(path.join(dir, "local-run.lock"))).toBe(false);

  // Doing what the message says: stop it; the next start serves the same data.
  writeFileSync(portFile, recorded);
  process.kill(orphan!, "SIGTERM");
  for (let i = 0; i < 100 && redisServersIn(redisDir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const next = startService({ DATA_DIR: dir });
  const port2 = await next.port();
  expect(next.output()).not.toContain("adopted");
  expect(await statusOf(port2, token)).toBe(200);
  await stopCleanly(next);
}, 60_000);

test("an uncaught error ends the service only after its redis-server has shut down gracefully, freeing the directory", async () => {
  const dir = tempDir();
  const redisDir = path.join(dir, "redis");
  // An error thrown from a timer of the service's own process, as a bug would.
  const crash = 'data:text/javascript,process.env.CRASH_AFTER_MS && setTimeout(() => { throw new Error("boom") }, Number(process.env.CRASH_AFTER_MS))';
  const p = startService({ DATA_DIR: dir, CRASH_AFTER_MS: "2500" }, ["--import", crash]);
  const port = await p.port();
  const token = await createSession(port, dir, "crash");
  expect(redisServersIn(redisDir)).toHaveLength(1);
  expect(await exitWithin(p), p.output()).toBe(1);
  expect(p.output()).toContain("Error: boom");
  expect(redisServersIn(redisDir)).toEqual([]);
  expect(existsSync(path.join(dir, "local-run.lock"))).toBe(false);
  expect(readFileSync(path.join(redisDir, "redis.log"), "utf8")).toContain("Calling fsync() on the AOF file");

  const next = startService({ DATA_DIR: dir });
  expect(await statusOf(await next.port(), token)).toBe(200);
  await stopCleanly(next);
}, 60_000);
