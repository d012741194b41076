import type http2 from "node:http2";

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * routeHttp2Streams offers every new HTTP/2 stream to `fast` first; streams it
 * declines go to the server's request/response ("compat") layer, which
 * connect-node and the REST transcoder use. Node builds that layer as the
 * server's one "stream" listener (installed with its request handler), so it
 * is taken off and called only for the declined streams: a stream served on
 * the fast path costs no Http2ServerRequest/Response pair.
 */
export function routeHttp2Streams(server: http2.Http2Server, fast: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean): void {
  const compat = server.listeners("stream") as StreamListener[];
  // Fail at start-up, not per request, if a Node release builds the layer differently.
  if (compat.length !== 1) throw new Error(`expected Node's HTTP/2 compatibility layer as the one "stream" listener, found ${compat.length}`);
  const serveCompat = compat[0]!;
  server.removeListener("stream", serveCompat);
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (!fast(stream, headers)) serveCompat.call(server, stream, headers, flags, rawHeaders);
  });
}
