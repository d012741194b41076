import type http2 from "node:http2";

/** Http2Sessions are the server's open HTTP/2 connections. */
export interface Http2Sessions {
  /** GOAWAY to each: open streams finish, no new ones start. */
  closeAll(): void;
  destroyAll(): void;
}

/**
 * trackHttp2Sessions follows a server's sessions and closes idle ones. Idle
 * means no traffic and no open stream: a long-lived stream (a health Watch)
 * keeps its session. Node's session timer fires once, so it is re-armed
 * whenever the last stream ends. A stream stalled in its request does not
 * keep a session forever: limitHttp2RequestTime resets it.
 */
export function trackHttp2Sessions(server: http2.Http2Server, idleMs: number): Http2Sessions {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    let openStreams = 0;
    if (idleMs > 0) {
      session.setTimeout(idleMs);
      session.on("timeout", () => openStreams === 0 && session.close());
    }
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      openStreams++;
      stream.once("close", () => {
        if (--openStreams === 0 && idleMs > 0 && !session.closed && !session.destroyed) session.setTimeout(idleMs);
      });
    });
  });
  return {
    closeAll: () => sessions.forEach((session) => session.close()),
    destroyAll: () => sessions.forEach((session) => session.destroy()),
  };
}
