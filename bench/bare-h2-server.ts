/**
 * The transport floor for the gRPC variant: node:http2 with no gRPC library,
 * answering GetAuthStatus in gRPC framing (length-prefixed message,
 * grpc-status trailers) after the same Redis work and protobuf-es encoding
 * as bare-grpc-server.ts. It is what any gRPC server on Node pays at least;
 * the table shows it beside bare grpc-js, not as a ratio.
 *   env: REDIS_URL, PORT, BARE_HMAC_KEY (base64)
 */
import http2 from "node:http2";
import { toBinary } from "@bufbuild/protobuf";
import { GetAuthStatusResponseSchema } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { bareLookup, bearer } from "./bare-lookup.js";
import { bareStatusResponse } from "./bare-status-response.js";

const lookup = bareLookup(process.env.REDIS_URL!, Buffer.from(process.env.BARE_HMAC_KEY!, "base64"));

function answer(stream: http2.ServerHttp2Stream, status: number, details: string, body?: Uint8Array) {
  if (stream.destroyed) return;
  if (body === undefined) {
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(status), "grpc-message": encodeURIComponent(details) }, { endStream: true });
    return;
  }
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(frame);
}

const server = http2.createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", () => undefined);
  // The request message is empty: read to its end, then answer.
  stream.resume();
  stream.once("end", () => {
    const token = bearer(headers.authorization);
    // 16 UNAUTHENTICATED, 14 UNAVAILABLE: as bare-grpc-server.ts answers them.
    if (!token) return answer(stream, 16, "missing bearer token");
    lookup(token).then((s) => answer(stream, 0, "", toBinary(GetAuthStatusResponseSchema, bareStatusResponse(s))), (e: unknown) => answer(stream, 14, String(e)));
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1");
