import { freePort, waitForPort } from "./net-wait.js";
import { spawnOn } from "./children.js";

/** startRedis runs a private redis-server on core 1, data in `dir`, no persistence. */
export async function startRedis(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawnOn(1, "redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--save", "", "--appendonly", "no", "--protected-mode", "yes",
  ], { stdio: ["ignore", "ignore", "inherit"] });
  await waitForPort(port, child, "redis-server");
  return `redis://127.0.0.1:${port}`;
}
