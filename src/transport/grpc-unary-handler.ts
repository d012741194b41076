import type http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { encodeBinary } from "../dispatch/binary-encoder.js";
import { LeanHeaders, type HeaderRecord } from "../dispatch/lean-headers.js";
import type { UnaryDispatcher, UnaryProcedure } from "../dispatch/unary-dispatcher.js";

export interface GrpcUnaryOptions {
  /** The largest request message, in bytes (RESOURCE_EXHAUSTED above it). */
  readonly readMaxBytes: number;
}

const prefixBytes = 5;
const ignore = () => undefined;
const noTimeout = { timeoutMs: undefined, error: undefined };

// Node copies the trailers it is given, so one record serves every call.
const okTrailers: http2.OutgoingHttpHeaders = Object.freeze({ "grpc-status": "0" });
function sendOkTrailers(this: http2.ServerHttp2Stream) {
  this.sendTrailers(okTrailers);
}

/**
 * createGrpcUnaryHandler serves unary gRPC calls (application/grpc, no
 * compression) on raw HTTP/2 streams: it reads the one length-prefixed
 * message, runs the call through the dispatcher and answers with headers,
 * the message and grpc-status trailers (or a trailers-only error). It returns
 * false for anything else — streams, gRPC-Web, compressed requests — which
 * connect-node then serves, so the fast path never has to know those.
 */
export function createGrpcUnaryHandler(
  dispatcher: UnaryDispatcher,
  options: GrpcUnaryOptions,
): (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean {
  return (stream, headers) => {
    if (headers[":method"] !== "POST") return false;
    const contentType = headers["content-type"];
    if (contentType !== "application/grpc" && contentType !== "application/grpc+proto") return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    const procedure = dispatcher.procedure(headers[":path"] ?? "");
    if (!procedure) return false;

    // A reset by the client is an error event here: it must not go unheard.
    stream.on("error", ignore);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    stream.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > options.readMaxBytes + prefixBytes) {
        refused = true;
        respondError(stream, new ConnectError(`message size is larger than configured readMaxBytes ${options.readMaxBytes}`, Code.ResourceExhausted));
        return;
      }
      chunks.push(chunk);
    });
    // "end" comes once: `on` spares the wrapper `once` makes.
    stream.on("end", () => {
      // A client's RST_STREAM ends the readable side too: a request that never
      // sent END_STREAM is not complete, whatever its bytes say.
      if (refused || stream.aborted || stream.destroyed) return;
      void serve(stream, headers, procedure, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    return true;
  };

  async function serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, procedure: UnaryProcedure, body: Buffer) {
    let reply;
    try {
      const timeoutHeader = headers["grpc-timeout"];
      const timeout = timeoutHeader === undefined ? noTimeout : parseTimeout(typeof timeoutHeader === "string" ? timeoutHeader : null, Number.MAX_SAFE_INTEGER);
      if (timeout.error) throw timeout.error;
      reply = await dispatcher.call({
        procedure,
        input: decode(procedure, body),
        requestHeader: new LeanHeaders(headers as HeaderRecord),
        protocolName: "grpc",
        requestMethod: "POST",
        url: procedure.path,
        timeoutMs: timeout.timeoutMs,
      }, (message) => encodeBinary(procedure.method.output, message, prefixBytes));
    } catch (e) {
      return respondError(stream, ConnectError.from(e));
    }
    if (stream.destroyed || stream.headersSent) return;
    // The message is written straight after room for its frame's prefix.
    const frame = reply.body;
    frame[0] = 0;
    frame.writeUInt32BE(frame.length - prefixBytes, 1);
    // The reply's header record is this call's own: it becomes the response headers.
    const response: HeaderRecord = reply.header.record;
    response[":status"] = "200";
    response["content-type"] = "application/grpc";
    stream.respond(response as http2.OutgoingHttpHeaders, { waitForTrailers: true });
    if (reply.trailer) {
      const trailers = reply.trailer.record;
      trailers["grpc-status"] = "0";
      stream.on("wantTrailers", () => stream.sendTrailers(trailers as http2.OutgoingHttpHeaders));
    } else {
      stream.on("wantTrailers", sendOkTrailers);
    }
    stream.end(frame);
  }

  function decode(procedure: UnaryProcedure, body: Buffer) {
    if (body.length < prefixBytes) {
      throw new ConnectError(`protocol error: missing input message for unary method`, Code.Unimplemented);
    }
    if (body[0] !== 0) {
      // Compression was not announced (grpc-encoding), so no message may be compressed.
      throw new ConnectError("protocol error: received compressed message without grpc-encoding", Code.Internal);
    }
    const length = body.readUInt32BE(1);
    if (body.length < prefixBytes + length) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    if (body.length > prefixBytes + length) {
      throw new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented);
    }
    try {
      return fromBinary(procedure.method.input, body.subarray(prefixBytes));
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
    }
  }
}

/** A trailers-only response: status, message and the error's metadata in one HEADERS frame. */
function respondError(stream: http2.ServerHttp2Stream, error: ConnectError) {
  if (stream.destroyed || stream.headersSent) return;
  const headers: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc" };
  setTrailerStatus(new Headers(), error).forEach((value, name) => (headers[name] = value));
  stream.respond(headers, { endStream: true });
  // The client may still be sending (a message over the limit): its rest is not wanted.
  if (!stream.readableEnded) stream.close();
}
