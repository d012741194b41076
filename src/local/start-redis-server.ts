import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, realpathSync } from "node:fs";
import path from "node:path";
import { atExit } from "./at-exit.js";
import { identifyRedis } from "./identify-redis.js";
import { logSize, readLogTail } from "./read-log-tail.js";

/**
 * startRedisServer runs redis-server as a child, listening on 127.0.0.1:`port`
 * with its files in `dir` — its data, its pid file `redis.pid` and its log
 * `redis.log` (which also takes whatever it prints) — and resolves once that
 * very process answers there: a listener that is not it (another program, or
 * another Redis) is never taken for it. A failed start rejects with the end of
 * Redis's own log. The child gets SIGTERM (Redis's graceful shutdown) when
 * this process exits.
 */
export async function startRedisServer(dir: string, port: number, appendOnly: boolean): Promise<ChildProcess> {
  const home = realpathSync(dir);
  const logFile = path.join(home, "redis.log");
  const logFrom = logSize(logFile);
  const output = openSync(logFile, "a", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(
      "redis-server",
      [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", home,
        "--appendonly", appendOnly ? "yes" : "no", "--save", "", "--protected-mode", "yes",
        "--pidfile", path.join(home, "redis.pid"), "--logfile", logFile,
      ],
      // Errors Redis meets before it reads --logfile (a bad option) go to its stdout/stderr: keep those too.
      { stdio: ["ignore", output, output] },
    );
  } finally {
    closeSync(output);
  }
  const cancel = atExit(() => child.kill("SIGTERM"));
  child.once("exit", cancel);
  const logged = () => {
    const tail = readLogTail(logFile, logFrom);
    return tail ? `; its log ${logFile} ends with:\n${tail}` : ` (nothing in its log ${logFile})`;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (e?: Error) => {
        if (settled) return;
        settled = true;
        if (e) reject(e);
        else resolve();
      };
      child.once("error", (e) => settle(new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${e.message}`)));
      child.once("exit", (code, signal) =>
        // Give Redis a moment to finish writing its last lines.
        setTimeout(() => settle(new Error(`redis-server exited (${signal ?? `code ${code}`}) before serving port ${port}${logged()}`)), 50),
      );
      let deadline = Date.now() + 10_000;
      const attempt = async () => {
        if (settled) return;
        let loading = false;
        const identity = await identifyRedis(port, 1_000).catch((e: Error) => void (loading = e.message.includes("LOADING")));
        if (identity && identity.pid === child.pid && identity.dir === home) return settle();
        // Replaying a large AOF takes as long as it takes: no deadline while it answers LOADING.
        if (loading) deadline = Date.now() + 10_000;
        if (Date.now() > deadline) {
          const other = identity ? ` (port ${port} is served by another redis-server, pid ${identity.pid}, data in ${identity.dir})` : "";
          return settle(new Error(`redis-server did not start serving port ${port} within 10 s${other}${logged()}`));
        }
        setTimeout(() => void attempt(), 50);
      };
      void attempt();
    });
  } catch (e) {
    child.kill("SIGTERM");
    throw e;
  }
  return child;
}
