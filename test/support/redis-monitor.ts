import net from "node:net";

/** One command a server reports through MONITOR. */
export interface MonitoredCommand {
  readonly args: string[];
  /** The sending connection's address, or "lua" for a command run inside a script. */
  readonly source: string;
}

export interface RedisMonitor {
  close(): void;
}

/**
 * startRedisMonitor opens its own connection to one server, sends MONITOR
 * and reports every command from the server's "+OK" on. Its own small RESP
 * reader, because ioredis's monitor() can misread a command line that
 * arrives in the same packet as the "+OK" (a "Command queue state error").
 */
export function startRedisMonitor(host: string, port: number, onCommand: (c: MonitoredCommand) => void): Promise<RedisMonitor> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => socket.write("MONITOR\r\n"));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`MONITOR on ${host}:${port} timed out`)));
    let buffered = "";
    let started = false;
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      let end: number;
      while ((end = buffered.indexOf("\r\n")) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!started) {
          if (line !== "+OK") return socket.destroy(new Error(`MONITOR refused: ${line}`));
          started = true;
          socket.setTimeout(0);
          resolve({ close: () => socket.destroy() });
          continue;
        }
        const parsed = parseMonitorLine(line);
        if (parsed) onCommand(parsed);
      }
    });
  });
}

/** `+1700000000.123456 [0 127.0.0.1:5555] "evalsha" "ab…" "1"`, arguments escaped as sdscatrepr does. */
function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const head = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!head) return undefined;
  const args: string[] = [];
  const rest = line.slice(head[0].length);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== '"') continue;
    let arg = "";
    for (i++; i < rest.length && rest[i] !== '"'; i++) {
      if (rest[i] !== "\\") {
        arg += rest[i];
        continue;
      }
      const next = rest[++i]!;
      if (next === "x") {
        arg += String.fromCharCode(parseInt(rest.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        arg += ({ n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b" } as Record<string, string>)[next] ?? next;
      }
    }
    args.push(Buffer.from(arg, "latin1").toString("utf8"));
  }
  return { args, source: head[1]! };
}
