import net from "node:net";
import type http from "node:http";
import type http2 from "node:http2";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export interface OnePortOptions {
  /** A connection that has not sent enough bytes to be classified within this is dropped. */
  readonly firstBytesTimeoutMs: number;
}

/**
 * createOnePortServer accepts TCP connections and hands each to the HTTP/2
 * server (the connection starts with the HTTP/2 preface: gRPC with prior
 * knowledge, grpcurl -plaintext, h2c clients) or to the HTTP/1.1 server
 * (curl, browsers). http2.createServer({allowHTTP1}) cannot do this without
 * TLS, because its fallback relies on ALPN.
 */
export function createOnePortServer(h1: http.Server, h2: http2.Http2Server, options: OnePortOptions): net.Server {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const silent = () => socket.destroy();
    socket.setTimeout(options.firstBytesTimeoutMs);
    socket.once("timeout", silent);
    // The first packet may hold only part of the preface ("P" could begin
    // POST, PUT or PATCH as well as "PRI * HTTP/2.0"), so bytes are gathered
    // until they either leave the preface or complete it.
    let head: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, preface.length);
      const isHttp2 = head.subarray(0, n).equals(preface.subarray(0, n));
      if (isHttp2 && head.length < preface.length) return;
      socket.off("data", sniff);
      socket.off("timeout", silent);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (isHttp2) {
        // The HTTP/2 session reads the unshifted bytes itself; resuming here would lose them.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", sniff);
    socket.on("error", () => socket.destroy());
  });
  // The HTTP/1.1 server never listens itself, and Node starts tracking its
  // connections (headersTimeout, requestTimeout, closeIdleConnections,
  // closeAllConnections) only on its "listening" event.
  server.once("listening", () => h1.emit("listening"));
  return server;
}
