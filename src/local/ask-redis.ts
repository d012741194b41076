import net from "node:net";

/** A RESP reply: a string, a number, null, an error or an array of replies. */
export type RedisReply = string | number | null | Error | RedisReply[];

/**
 * askRedis sends `commands` to the Redis on 127.0.0.1:`port` over one fresh
 * connection and resolves with their replies, in order. It is a tiny RESP
 * client for start-up checks, so that a check never reconnects, queues or
 * retries behind our back (as a full client would): it fails within `timeoutMs`.
 */
export function askRedis(port: number, commands: readonly (readonly string[])[], timeoutMs = 2_000): Promise<RedisReply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let buffer = Buffer.alloc(0);
    const replies: RedisReply[] = [];
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer on port ${port} within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("close", () => reject(new Error(`port ${port} closed the connection`)));
    socket.on("connect", () => socket.write(commands.map(encode).join("")));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        for (let parsed = parse(buffer, 0); parsed; parsed = parse(buffer, 0)) {
          replies.push(parsed.reply);
          buffer = buffer.subarray(parsed.end);
          if (replies.length === commands.length) {
            socket.destroy();
            return resolve(replies);
          }
        }
      } catch (e) {
        fail(e as Error);
      }
    });
  });
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** One reply starting at `at`, or undefined when the buffer does not hold all of it yet. */
function parse(buffer: Buffer, at: number): { reply: RedisReply; end: number } | undefined {
  const lineEnd = buffer.indexOf("\r\n", at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[at]!);
  const line = buffer.toString("utf8", at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { reply: line, end: next };
    case "-":
      return { reply: new Error(line), end: next };
    case ":":
      return { reply: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: buffer.toString("utf8", next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { reply: null, end: next };
      const items: RedisReply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, end);
        if (!item) return undefined;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      // Not Redis at all (an HTTP server, say): say so rather than wait.
      throw new Error(`port answered something that is not Redis: ${JSON.stringify(buffer.toString("utf8", at, Math.min(buffer.length, at + 40)))}`);
  }
}
