import net from "node:net";
import type http from "node:http";
import type http2 from "node:http2";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * createOnePortServer accepts TCP connections and hands each to the HTTP/2
 * server (the connection starts with the HTTP/2 preface: gRPC with prior
 * knowledge, grpcurl -plaintext, h2c clients) or to the HTTP/1.1 server
 * (curl, browsers). http2.createServer({allowHTTP1}) cannot do this without
 * TLS, because its fallback relies on ALPN.
 */
export function createOnePortServer(h1: http.Server, h2: http2.Http2Server): net.Server {
  return net.createServer({ noDelay: true }, (socket) => {
    // A client that connects and says nothing is dropped, not kept forever.
    socket.setTimeout(30_000, () => socket.destroy());
    socket.once("data", (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      const n = Math.min(chunk.length, preface.length);
      if (chunk.subarray(0, n).equals(preface.subarray(0, n))) {
        // The HTTP/2 session reads the unshifted bytes itself; resuming here would lose them.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
    socket.on("error", () => socket.destroy());
  });
}
