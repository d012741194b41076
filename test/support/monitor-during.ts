import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { primariesOf } from "./primaries-of.js";
import { startRedisMonitor } from "./redis-monitor.js";

/** One command a Redis server saw, as MONITOR reports it. */
export interface MonitorLine {
  readonly args: string[];
  /** The sending connection's address, or "lua" for a command run inside a script. */
  readonly source: string;
  /** "host:port" of the server that ran it. */
  readonly node: string;
}

/**
 * monitorDuring runs `action` while every primary is MONITORed and returns
 * what each server saw between two ECHO markers sent on the inspector's own
 * connection to it before and after the action: node by node, each node's
 * lines in its own order (a script's "lua" lines right after the call that
 * ran it). On one Redis that is the one server's window.
 */
export async function monitorDuring(redis: Redis | Cluster, action: () => Promise<void>): Promise<MonitorLine[]> {
  const tag = randomBytes(6).toString("hex");
  const isMarker = (l: MonitorLine, which: string) => l.args[0]?.toLowerCase() === "echo" && l.args[1] === `${which}-${tag}`;
  const nodes = await primariesOf(redis);
  const watches = await Promise.all(
    nodes.map(async (node) => {
      const host = node.options.host ?? "127.0.0.1";
      const port = node.options.port ?? 6379;
      const name = `${host}:${port}`;
      const lines: MonitorLine[] = [];
      let sawEnd!: () => void;
      const ended = new Promise<void>((resolve) => (sawEnd = resolve));
      const monitor = await startRedisMonitor(host, port, ({ args, source }) => {
        const line = { args, source, node: name };
        lines.push(line);
        if (isMarker(line, "end")) sawEnd();
      });
      return { monitor, lines, ended };
    }),
  );
  try {
    await Promise.all(nodes.map((node) => node.echo(`start-${tag}`)));
    await action();
    await Promise.all(nodes.map((node) => node.echo(`end-${tag}`)));
    await Promise.all(watches.map((w) => w.ended));
  } finally {
    for (const w of watches) w.monitor.close();
  }
  return watches.flatMap(({ lines }) => {
    const start = lines.findIndex((l) => isMarker(l, "start"));
    const end = lines.findIndex((l) => isMarker(l, "end"));
    if (start < 0 || end <= start) throw new Error(`MONITOR missed the markers (start ${start}, end ${end})`);
    return lines.slice(start + 1, end);
  });
}
