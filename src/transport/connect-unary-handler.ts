import { fromBinary, fromJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout } from "@connectrpc/connect/protocol-connect";
import { encodeBinary } from "../dispatch/binary-encoder.js";
import { encodeJson } from "../dispatch/json-encoder.js";
import { LeanHeaders, type HeaderRecord } from "../dispatch/lean-headers.js";
import type { UnaryDispatcher, UnaryProcedure } from "../dispatch/unary-dispatcher.js";
import type { NodeServerRequest, NodeServerResponse } from "./node-http-types.js";

export interface ConnectUnaryOptions {
  /** The largest request body, in bytes (RESOURCE_EXHAUSTED above it). */
  readonly readMaxBytes: number;
}

type Format = "json" | "proto";

/**
 * createConnectUnaryHandler serves Connect unary POSTs (application/json or
 * application/proto, uncompressed) over HTTP/1.1 and HTTP/2 straight into the
 * dispatcher. It returns false for anything else — GET requests, compressed
 * bodies, streams, gRPC-Web — which connect-node then serves.
 */
export function createConnectUnaryHandler(
  dispatcher: UnaryDispatcher,
  options: ConnectUnaryOptions,
): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== "POST") return false;
    const procedure = dispatcher.procedure(req.url ?? "");
    if (!procedure) return false;
    const format = formatOf(req.headers["content-type"]);
    if (!format) return false;
    const encoding = req.headers["content-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    const version = req.headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return false;
    void serve(req, res, procedure, format);
    return true;
  };

  async function serve(req: NodeServerRequest, res: NodeServerResponse, procedure: UnaryProcedure, format: Format) {
    let body: string | Uint8Array;
    try {
      const timeout = parseTimeout(headerOf(req, "connect-timeout-ms"), Number.MAX_SAFE_INTEGER);
      if (timeout.error) throw timeout.error;
      const input = decode(procedure, format, await readBody(req, options.readMaxBytes));
      const reply = await dispatcher.call({
        procedure,
        input,
        requestHeader: new LeanHeaders(req.headers),
        protocolName: "connect",
        requestMethod: "POST",
        url: req.url ?? procedure.path,
        timeoutMs: timeout.timeoutMs,
      }, (message) => encode(procedure.method.output, format, message));
      body = reply.body;
      const headers: HeaderRecord = reply.header.record;
      // Connect unary replies carry trailers as prefixed headers.
      if (reply.trailer) for (const [name, value] of reply.trailer.entries()) headers[`trailer-${name}`] = value;
      headers["content-type"] = format === "json" ? "application/json" : "application/proto";
      headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
      res.writeHead(200, headers);
    } catch (e) {
      const error = ConnectError.from(e);
      body = errorToJsonBytes(error, {});
      const headers: HeaderRecord = {};
      error.metadata.forEach((value, name) => (headers[name] = value));
      headers["content-type"] = "application/json";
      headers["content-length"] = String(body.length);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(codeToHttpStatus(error.code), headers);
    }
    res.end(body);
  }
}

function formatOf(contentType: string | undefined): Format | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json" ? "json" : type === "application/proto" ? "proto" : undefined;
}

function headerOf(req: NodeServerRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : null;
}

async function readBody(req: NodeServerRequest, limit: number): Promise<Buffer> {
  const declared = Number(headerOf(req, "content-length") ?? "0");
  const tooLarge = () => new ConnectError(`message size is larger than configured readMaxBytes ${limit}`, Code.ResourceExhausted);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function decode(procedure: UnaryProcedure, format: Format, body: Buffer): MessageShape<DescMessage> {
  const schema = procedure.method.input;
  if (format === "proto") {
    try {
      return fromBinary(schema, body);
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
    }
  }
  let json: unknown;
  try {
    json = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new ConnectError(`cannot decode message ${schema.typeName} from JSON: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
  try {
    // Connect ignores unknown JSON fields, so newer clients work with older servers.
    return fromJson(schema, json as never, { ignoreUnknownFields: true });
  } catch (e) {
    throw new ConnectError(e instanceof Error ? e.message : String(e), Code.InvalidArgument);
  }
}

function encode(schema: DescMessage, format: Format, message: MessageShape<DescMessage>): string | Uint8Array {
  return format === "json" ? encodeJson(schema, message) : encodeBinary(schema, message);
}
