import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

// A redis-server started here must not outlive this process, however it ends.
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGTERM");
});

/**
 * startRedisServer runs redis-server as a child, listening on 127.0.0.1:`port`
 * with its files in `dir`, and resolves once it accepts connections.
 */
export async function startRedisServer(dir: string, port: number, appendOnly: boolean): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", appendOnly ? "yes" : "no", "--save", "", "--protected-mode", "yes"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("error", (e) => reject(new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${e.message}`)));
      child.once("exit", (code) => reject(new Error(`redis-server exited with code ${code} before accepting connections on port ${port}`)));
      const deadline = Date.now() + 10_000;
      const attempt = () => {
        const socket = net.connect(port, "127.0.0.1", () => {
          socket.end();
          resolve();
        });
        socket.on("error", () => {
          socket.destroy();
          if (Date.now() > deadline) reject(new Error(`redis-server did not start on port ${port}`));
          else setTimeout(attempt, 50);
        });
      };
      attempt();
    });
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  return child;
}
