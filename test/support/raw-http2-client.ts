import net from "node:net";

// A deliberately misbehaving HTTP/2 client written frame by frame: unlike
// node:http2's client it ignores the server's SETTINGS_MAX_CONCURRENT_STREAMS,
// so a test can open more streams than the server allows.

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const frameType = { data: 0, headers: 1, rstStream: 3, settings: 4, ping: 6, goaway: 7 } as const;
const flag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4 } as const;

export interface RawHttp2Connection {
  /** The server's SETTINGS, by identifier (3: MAX_CONCURRENT_STREAMS, 6: MAX_HEADER_LIST_SIZE). */
  readonly settings: ReadonlyMap<number, number>;
  /** RST_STREAM frames received: stream id → error code. */
  readonly resets: ReadonlyMap<number, number>;
  /** Streams the server sent HEADERS on. */
  readonly answered: ReadonlySet<number>;
  /** The GOAWAY received, if any. */
  goaway(): { lastStreamId: number; errorCode: number } | undefined;
  closed(): boolean;
  /** Opens a POST stream, sends `body` and never ends it; returns the stream id. */
  openStalledPost(path: string, headers: Record<string, string>, body: string): number;
  /** Resets a stream (RST_STREAM, CANCEL by default): its request ends without END_STREAM. */
  reset(streamId: number, errorCode?: number): void;
  destroy(): void;
}

export async function connectRawHttp2(port: number): Promise<RawHttp2Connection> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => undefined);
  const settings = new Map<number, number>();
  const resets = new Map<number, number>();
  const answered = new Set<number>();
  let goaway: { lastStreamId: number; errorCode: number } | undefined;
  let closed = false;
  let nextStreamId = 1;
  let settled: () => void;
  const ready = new Promise<void>((resolve) => (settled = resolve));

  socket.once("close", () => (closed = true));
  socket.write(Buffer.concat([preface, frame(frameType.settings, 0, 0, Buffer.alloc(0))]));
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3);
      if (buffered.length < 9 + length) break;
      const type = buffered[3]!;
      const flags = buffered[4]!;
      const streamId = buffered.readUInt32BE(5) & 0x7fffffff;
      const payload = buffered.subarray(9, 9 + length);
      buffered = buffered.subarray(9 + length);
      if (type === frameType.settings && !(flags & flag.ack)) {
        for (let i = 0; i + 6 <= payload.length; i += 6) settings.set(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
        // The server applies its own SETTINGS only once they are acknowledged.
        socket.write(frame(frameType.settings, flag.ack, 0, Buffer.alloc(0)));
        settled();
      } else if (type === frameType.ping && !(flags & flag.ack)) {
        socket.write(frame(frameType.ping, flag.ack, 0, payload));
      } else if (type === frameType.rstStream) {
        resets.set(streamId, payload.readUInt32BE(0));
      } else if (type === frameType.headers) {
        answered.add(streamId);
      } else if (type === frameType.goaway) {
        goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, errorCode: payload.readUInt32BE(4) };
      }
    }
  });
  await ready;

  return {
    settings,
    resets,
    answered,
    goaway: () => goaway,
    closed: () => closed,
    openStalledPost(path, headers, body) {
      const id = nextStreamId;
      nextStreamId += 2;
      const block = hpackLiterals({ ":method": "POST", ":scheme": "http", ":authority": `127.0.0.1:${port}`, ":path": path, ...headers });
      socket.write(Buffer.concat([
        frame(frameType.headers, flag.endHeaders, id, block),
        frame(frameType.data, 0, id, Buffer.from(body)),
      ]));
      return id;
    },
    reset(streamId, errorCode = 0x8) {
      const code = Buffer.alloc(4);
      code.writeUInt32BE(errorCode, 0);
      socket.write(frame(frameType.rstStream, 0, streamId, code));
    },
    destroy: () => socket.destroy(),
  };
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** Each header as an HPACK "literal header field without indexing — new name" (RFC 7541 §6.2.2). */
function hpackLiterals(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  // HTTP/2 header names are lower case (an upper-case one is a protocol error).
  for (const [name, value] of Object.entries(headers)) parts.push(Buffer.of(0), hpackString(name.toLowerCase()), hpackString(value));
  return Buffer.concat(parts);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

function hpackInteger(n: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.of(n);
  const out = [max];
  let rest = n - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}
