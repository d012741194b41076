import http2 from "node:http2";

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

interface Pending {
  readonly deadline: number;
  readonly grpc: boolean;
}

/**
 * limitHttp2RequestTime is HTTP/2's twin of HTTP/1.1's requestTimeout: a
 * stream whose request (headers and body) has not fully arrived within
 * `timeoutMs` of its start is reset, so stalled request bodies neither hold
 * memory nor keep their connection from counting as idle. A unary gRPC call
 * on the fast path is first answered DEADLINE_EXCEEDED; streams served
 * through Node's request/response layer are only reset (RST_STREAM CANCEL),
 * because their handlers own the response and see the reset as an abort.
 * Like Node's HTTP/1.1 check, streams are swept on a tick rather than given a
 * timer each. A stream whose request is complete is never cut, however long
 * its response runs (a health Watch); nor is one the server is answering
 * while the client still sends (a bidirectional stream such as reflection).
 */
export function limitHttp2RequestTime(server: http2.Http2Server, timeoutMs: number): void {
  const pending = new Map<http2.ServerHttp2Stream, Pending>();
  // Streams handed to the request/response layer, with their request objects.
  const compat = new WeakMap<http2.ServerHttp2Stream, http2.Http2ServerRequest>();
  const tickMs = Math.min(1000, timeoutMs);
  let ticker: NodeJS.Timeout | undefined;

  const sweep = () => {
    const now = performance.now();
    for (const [stream, { deadline, grpc }] of pending) {
      if (stream.destroyed || stream.closed || stream.state.remoteClose) pending.delete(stream);
      else if (now >= deadline) {
        pending.delete(stream);
        try {
          expire(stream, grpc, compat.get(stream), timeoutMs);
        } catch {
          // A stream its session is tearing down may refuse an answer; it must go all the same.
          stream.destroy();
        }
      }
    }
    if (pending.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  server.on("request", (req: http2.Http2ServerRequest) => compat.set(req.stream, req));
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    // A request without a body (GET) is complete with its headers.
    if (stream.endAfterHeaders) return;
    const contentType = headers["content-type"];
    const grpc = contentType === "application/grpc" || contentType === "application/grpc+proto";
    pending.set(stream, { deadline: performance.now() + timeoutMs, grpc });
    stream.once("close", () => pending.delete(stream));
    // Ticking only while a request is arriving: an idle server, or a closed one, keeps no timer.
    ticker ??= setInterval(sweep, tickMs).unref();
  });
}

function expire(stream: http2.ServerHttp2Stream, grpc: boolean, compatRequest: http2.Http2ServerRequest | undefined, timeoutMs: number) {
  if (stream.headersSent) {
    // Answered already: the response is complete, the unread rest of the request is not wanted.
    if (stream.state.localClose) stream.close(NGHTTP2_NO_ERROR);
    // Otherwise the server is streaming its answer to a request still open (bidirectional): the call's own business.
    return;
  }
  if (compatRequest) {
    // Node's request object would end normally when its stream closes, handing
    // the handler a truncated body as if whole; destroyed first, it fails the read.
    compatRequest.destroy();
    stream.close(NGHTTP2_CANCEL);
  } else if (grpc) {
    const message = encodeURIComponent(`request not received within ${timeoutMs} ms`);
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "4", "grpc-message": message }, { endStream: true });
  } else {
    stream.close(NGHTTP2_CANCEL);
  }
  // Paused, then destroyed: the fast path's reader must not see "end" either (Node ends the
  // readable side of a stream closing while it flows), or it would serve what arrived as the whole request.
  stream.pause();
  stream.destroy();
}
