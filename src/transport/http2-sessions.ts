import type http2 from "node:http2";

/** Http2Sessions are the server's open HTTP/2 connections. */
export interface Http2Sessions {
  /** GOAWAY to each: open streams finish, no new ones start. */
  closeAll(): void;
  destroyAll(): void;
}

/**
 * trackHttp2Sessions follows a server's sessions and closes idle ones. Idle
 * means no open stream for `idleMs` (as gRPC's max connection idle: PINGs do
 * not count); a long-lived stream (a health Watch) keeps its session. One
 * sweep on a tick serves every session: Node's own session timer would be
 * refreshed on every frame of every call, which cost about 3 µs per gRPC call
 * here. A stream stalled in its request does not keep a session forever:
 * limitHttp2RequestTime resets it.
 */
export function trackHttp2Sessions(server: http2.Http2Server, idleMs: number): Http2Sessions {
  // Each session's open streams, and since when it has had none.
  const sessions = new Map<http2.ServerHttp2Session, { open: number; idleSince: number }>();
  let ticker: NodeJS.Timeout | undefined;

  const sweep = () => {
    const now = performance.now();
    for (const [session, state] of sessions) {
      if (state.open === 0 && now - state.idleSince >= idleMs && !session.closed && !session.destroyed) session.close();
    }
  };

  server.on("session", (session: http2.ServerHttp2Session) => {
    const state = { open: 0, idleSince: performance.now() };
    sessions.set(session, state);
    session.once("close", () => {
      sessions.delete(session);
      if (sessions.size === 0 && ticker !== undefined) {
        clearInterval(ticker);
        ticker = undefined;
      }
    });
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      state.open++;
      stream.once("close", () => {
        if (--state.open === 0) state.idleSince = performance.now();
      });
    });
    // Ticking only while a session is open: an idle server keeps no timer.
    if (idleMs > 0) ticker ??= setInterval(sweep, Math.min(1000, idleMs)).unref();
  });
  return {
    closeAll: () => sessions.forEach((_, session) => session.close()),
    destroyAll: () => sessions.forEach((_, session) => session.destroy()),
  };
}
