import { setTimeout as sleep } from "node:timers/promises";
import { processAlive } from "./process-liveness.js";

/**
 * stopRedisProcess asks redis-server `pid` to shut down with SIGTERM — Redis's
 * graceful shutdown, like SHUTDOWN: it flushes and fsyncs the AOF — and waits
 * until it is gone. It resolves false when it still runs after `timeoutMs`;
 * it is then left running (never SIGKILLed, which could cut the AOF short),
 * and the next start waits for it or adopts it.
 */
export async function stopRedisProcess(pid: number, timeoutMs = 20_000): Promise<boolean> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return true; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}
