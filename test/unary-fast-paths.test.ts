/**
 * The unary fast paths (gRPC on raw HTTP/2 streams, Connect POST) speak
 * their protocols exactly: deadlines, metadata (with -bin headers),
 * trailers-only errors, message size limits, malformed envelopes, and the
 * requests they decline (compressed, GET, gRPC-Web) still served on the
 * same port. Real sockets, real clients, real Redis.
 */
import http from "node:http";
import http2 from "node:http2";
import { Writable } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthStatusService,
  GetAuthStatusRequestSchema,
  GetAuthStatusResponseSchema,
  type GetAuthStatusResponse,
} from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.js";
import { createApiClientVerifier } from "../src/auth/api-client-verifier.js";
import { createUnaryDispatcher, type UnaryDispatcher } from "../src/dispatch/unary-dispatcher.js";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { createCallOutcome } from "../src/observability/call-outcome.js";
import { createLogger } from "../src/observability/logger.js";
import { createRestHandler } from "../src/rest/rest-handler.js";
import { buildRestRoutes } from "../src/rest/rest-routes.js";
import { createConnectUnaryHandler } from "../src/transport/connect-unary-handler.js";
import { createGrpcUnaryHandler } from "../src/transport/grpc-unary-handler.js";
import { routeHttp2Streams } from "../src/transport/route-http2-streams.js";
import { freePort } from "./support/own-redis.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

const getAuthStatus = "/sessionstorage.v1.AuthStatusService/GetAuthStatus";
const listSessions = "/sessionstorage.v1.SessionStorageService/ListStoredSessions";

/** One length-prefixed gRPC message. */
function frame(message: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

interface RawReply {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  /** True when the HEADERS frame ended the stream: a trailers-only response. */
  trailersOnly: boolean;
}

/** A gRPC call with Node's own HTTP/2 client, so every frame is ours to shape. */
function rawGrpc(baseUrl: string, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let replyHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    let trailersOnly = false;
    const chunks: Buffer[] = [];
    req.on("response", (h, flags) => {
      replyHeaders = h;
      trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("close", () => {
      session.close();
      resolve({ headers: replyHeaders, trailers, body: Buffer.concat(chunks), trailersOnly });
    });
    req.on("error", () => undefined);
    req.end(body);
  });
}

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await startTestApp({ MAX_BODY_BYTES: "4096" });
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "fast-path-user", user: { name: "Fast" } }),
  });
  expect(res.status).toBe(200);
  token = ((await res.json()) as { token: string }).token;
});
afterAll(async () => {
  await t.close();
});

describe("gRPC unary on raw HTTP/2 streams", () => {
  const request = frame(toBinary(GetAuthStatusRequestSchema, create(GetAuthStatusRequestSchema)));

  it("answers headers, one message and grpc-status 0 trailers, with the request id as metadata", async () => {
    const reply = await rawGrpc(t.baseUrl, getAuthStatus, request, { authorization: `Bearer ${token}`, "x-request-id": "fast-grpc-1" });
    expect(reply.headers[":status"]).toBe(200);
    expect(reply.headers["content-type"]).toBe("application/grpc");
    expect(reply.headers["x-request-id"]).toBe("fast-grpc-1");
    expect(reply.trailers?.["grpc-status"]).toBe("0");
    expect(reply.body.readUInt32BE(1)).toBe(reply.body.length - 5);
    const message = fromBinary(GetAuthStatusResponseSchema, reply.body.subarray(5));
    expect(message.valid).toBe(true);
    expect(message.user).toEqual({ name: "Fast" });
  });

  it("errors are trailers-only: status, percent-encoded message and request id in the one HEADERS frame", async () => {
    const reply = await rawGrpc(t.baseUrl, listSessions, frame(new Uint8Array()), { "x-request-id": "fast-grpc-2" });
    expect(reply.trailersOnly).toBe(true);
    expect(reply.body.length).toBe(0);
    expect(reply.headers["grpc-status"]).toBe(String(Code.Unauthenticated));
    expect(decodeURIComponent(String(reply.headers["grpc-message"]))).toMatch(/ClientID and ClientSecret/);
    expect(reply.headers["x-request-id"]).toBe("fast-grpc-2");
  });

  it("a message over the size limit is RESOURCE_EXHAUSTED, not read to its end", async () => {
    const reply = await rawGrpc(t.baseUrl, getAuthStatus, frame(Buffer.alloc(10_000, 1)), { authorization: `Bearer ${token}` });
    expect(reply.headers["grpc-status"]).toBe(String(Code.ResourceExhausted));
  });

  it("malformed envelopes: compressed flag without grpc-encoding, truncated, two messages, none", async () => {
    const status = async (body: Buffer) => {
      const reply = await rawGrpc(t.baseUrl, getAuthStatus, body, { authorization: `Bearer ${token}` });
      return Number(reply.headers["grpc-status"] ?? reply.trailers?.["grpc-status"]);
    };
    expect(await status(frame(new Uint8Array(), 1))).toBe(Code.Internal);
    expect(await status(frame(Buffer.from([8, 1])).subarray(0, 6))).toBe(Code.InvalidArgument);
    expect(await status(Buffer.concat([request, request]))).toBe(Code.Unimplemented);
    expect(await status(Buffer.alloc(0))).toBe(Code.Unimplemented);
    expect(await status(frame(Buffer.from([0xff, 0xff])))).toBe(Code.Internal);
  });

  it("a malformed grpc-timeout is INVALID_ARGUMENT", async () => {
    const reply = await rawGrpc(t.baseUrl, getAuthStatus, request, { authorization: `Bearer ${token}`, "grpc-timeout": "soon" });
    expect(reply.headers["grpc-status"]).toBe(String(Code.InvalidArgument));
  });

  it("grpc-js: metadata with -bin values is accepted, response metadata and a generous deadline work", async () => {
    const client = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${token}`);
      metadata.set("trace-context-bin", Buffer.from([0, 1, 2, 255]));
      const received: grpc.Metadata[] = [];
      const message = await new Promise<GetAuthStatusResponse>((resolve, reject) => {
        const call = client.makeUnaryRequest(
          getAuthStatus,
          (m: GetAuthStatusResponse) => Buffer.from(toBinary(GetAuthStatusRequestSchema, create(GetAuthStatusRequestSchema, m as never))),
          (b: Buffer) => fromBinary(GetAuthStatusResponseSchema, b),
          create(GetAuthStatusResponseSchema),
          metadata,
          { deadline: Date.now() + 5_000 },
          (err, res) => (err ? reject(err) : resolve(res!)),
        );
        call.on("metadata", (m) => received.push(m));
      });
      expect(message.valid).toBe(true);
      expect(received[0]?.get("x-request-id")[0]).toBeTypeOf("string");
    } finally {
      client.close();
    }
  });

  it("requests the fast path declines are still served on the port: gzip-compressed gRPC, gRPC-Web", async () => {
    const headers = { authorization: `Bearer ${token}` };
    const compressed = createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl, sendCompression: compressionGzip, compressMinBytes: 0 }));
    expect((await compressed.getAuthStatus({}, { headers })).valid).toBe(true);
    const gzipClient = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
    try {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${token}`);
      const message = await new Promise<GetAuthStatusResponse>((resolve, reject) => {
        gzipClient.makeUnaryRequest(
          getAuthStatus,
          () => Buffer.from(toBinary(GetAuthStatusRequestSchema, create(GetAuthStatusRequestSchema))),
          (b: Buffer) => fromBinary(GetAuthStatusResponseSchema, b),
          {},
          metadata,
          (err, res) => (err ? reject(err) : resolve(res!)),
        );
      });
      expect(message.valid).toBe(true);
    } finally {
      gzipClient.close();
    }
    const web = createClient(AuthStatusService, createGrpcWebTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    expect((await web.getAuthStatus({}, { headers })).valid).toBe(true);
  });
});

describe("Connect unary POST", () => {
  const post = (body: string | Blob, headers: Record<string, string>) =>
    fetch(`${t.baseUrl}${getAuthStatus}`, { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body });

  it("JSON: 200 with the message as JSON, unknown fields ignored, request id echoed", async () => {
    const res = await post('{"notAField": 1}', { "content-type": "application/json", "connect-protocol-version": "1", "x-request-id": "fast-connect-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toBe("fast-connect-1");
    const body = (await res.json()) as { valid: boolean; session: { timeoutMinutes: number } };
    expect(body.valid).toBe(true);
    expect(body.session.timeoutMinutes).toBe(120);
  });

  it("binary: application/proto in, application/proto out", async () => {
    const res = await post(new Blob([toBinary(GetAuthStatusRequestSchema, create(GetAuthStatusRequestSchema)) as Uint8Array<ArrayBuffer>]), { "content-type": "application/proto" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/proto");
    expect(fromBinary(GetAuthStatusResponseSchema, new Uint8Array(await res.arrayBuffer())).valid).toBe(true);
  });

  it("errors: the Connect error JSON with the HTTP status of its code and the request id", async () => {
    const res = await fetch(`${t.baseUrl}${listSessions}`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": "fast-connect-2" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBe("fast-connect-2");
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("unauthenticated");
    expect(body.message).toMatch(/ClientID and ClientSecret/);
  });

  it("bad input: malformed JSON is 400 invalid_argument; a body over the limit is 429 resource_exhausted; a bad timeout is 400", async () => {
    const bad = await post("{", { "content-type": "application/json" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe("invalid_argument");
    const big = await post(JSON.stringify({ pad: "x".repeat(10_000) }), { "content-type": "application/json" });
    expect(big.status).toBe(429);
    expect(((await big.json()) as { code: string }).code).toBe("resource_exhausted");
    const timeout = await post("{}", { "content-type": "application/json", "connect-timeout-ms": "soon" });
    expect(timeout.status).toBe(400);
  });

  it("Connect clients over HTTP/1.1 and HTTP/2, with and without compression, reach the same implementation", async () => {
    const headers = { authorization: `Bearer ${token}` };
    for (const transport of [
      createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "2" }),
      createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
      createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1", sendCompression: compressionGzip, compressMinBytes: 0 }),
    ]) {
      expect((await createClient(AuthStatusService, transport).getAuthStatus({}, { headers })).valid).toBe(true);
    }
    const storage = createClient(SessionStorageService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "2" }));
    const err = await storage.listStoredSessions({}).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

describe("deadlines, with the service's Redis frozen", () => {
  let redis: ChildProcess | undefined;
  let frozen: TestApp | undefined;
  let frozenToken = "";
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-deadline-"));
  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedisServer(dir, port, false);
    frozen = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
    const res = await fetch(`${frozen.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...frozen.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "deadline-user" }),
    });
    frozenToken = ((await res.json()) as { token: string }).token;
  });
  afterAll(async () => {
    redis?.kill("SIGCONT");
    await frozen?.close();
    redis?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("a call still waiting on Redis at its deadline is answered DEADLINE_EXCEEDED (gRPC) / 504 (Connect) at the deadline", async () => {
    redis!.kill("SIGSTOP");
    try {
      const started = Date.now();
      const reply = await rawGrpc(frozen!.baseUrl, getAuthStatus, frame(new Uint8Array()), { authorization: `Bearer ${frozenToken}`, "grpc-timeout": "300m" });
      expect(reply.headers["grpc-status"]).toBe(String(Code.DeadlineExceeded));
      const grpcMs = Date.now() - started;
      expect(grpcMs).toBeGreaterThanOrEqual(290);
      // Well before Redis's own command timeout (2 s) would have answered.
      expect(grpcMs).toBeLessThan(1_500);
      const res = await fetch(`${frozen!.baseUrl}${getAuthStatus}`, {
        method: "POST",
        headers: { authorization: `Bearer ${frozenToken}`, "content-type": "application/json", "connect-timeout-ms": "300" },
        body: "{}",
      });
      expect(res.status).toBe(504);
      expect(((await res.json()) as { code: string }).code).toBe("deadline_exceeded");
    } finally {
      redis!.kill("SIGCONT");
    }
  });
});

/** A logger at info whose JSON lines are kept in `lines`, parsed. */
function loggerInto(lines: Record<string, unknown>[]) {
  return createLogger("info", new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  }));
}

/** Both fast paths over `dispatcher` on a real HTTP/2 server of the test's own. */
async function startFastPathServer(dispatcher: UnaryDispatcher): Promise<{ server: http2.Http2Server; baseUrl: string }> {
  const connectUnary = createConnectUnaryHandler(dispatcher, { readMaxBytes: 4096 });
  const server = http2.createServer((req, res) => {
    if (!connectUnary(req, res)) res.writeHead(404).end();
  });
  routeHttp2Streams(server, createGrpcUnaryHandler(dispatcher, { readMaxBytes: 4096 }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe("a reply the service cannot encode", () => {
  // An implementation answering a value its schema cannot hold (an enum as a
  // string): no real service does, so the fast paths run here over a service
  // of the test's own, on a real HTTP/2 server with real clients.
  const lines: Record<string, unknown>[] = [];
  let server: http2.Http2Server;
  let baseUrl: string;
  beforeAll(async () => {
    const logger = loggerInto(lines);
    const dispatcher = createUnaryDispatcher({
      services: [{ service: Health, impl: { check: () => create(HealthCheckResponseSchema, { status: "bogus" as never }) } as never }],
      verifier: createApiClientVerifier([]),
      outcome: createCallOutcome(logger, () => false, { logCalls: true }),
    });
    ({ server, baseUrl } = await startFastPathServer(dispatcher));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const check = "/grpc.health.v1.Health/Check";

  it("is INTERNAL on gRPC and 500 internal on Connect (proto and JSON), logged as the call's failure with its cause", async () => {
    const reply = await rawGrpc(baseUrl, check, frame(new Uint8Array()), { "x-request-id": "unencodable-1" });
    expect(reply.trailersOnly).toBe(true);
    expect(reply.headers["grpc-status"]).toBe(String(Code.Internal));
    expect(decodeURIComponent(String(reply.headers["grpc-message"]))).toBe("internal error");
    expect(reply.headers["x-request-id"]).toBe("unencodable-1");

    for (const [contentType, body] of [["application/proto", new Uint8Array()], ["application/json", "{}"]] as const) {
      const session = http2.connect(baseUrl);
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": check, "content-type": contentType, "x-request-id": `unencodable-${contentType.slice(12)}` });
        let status = 0;
        const chunks: Buffer[] = [];
        req.on("response", (h) => (status = Number(h[":status"])));
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString() }));
        req.on("error", reject);
        req.end(body);
      });
      session.close();
      expect(res.status, contentType).toBe(500);
      expect(JSON.parse(res.body), contentType).toEqual({ code: "internal", message: "internal error" });
    }

    const failures = lines.filter((l) => l.msg === "call failed");
    expect(failures.map((l) => [l.requestId, l.code])).toEqual([
      ["unencodable-1", "internal"],
      ["unencodable-proto", "internal"],
      ["unencodable-json", "internal"],
    ]);
    expect((failures[0]!.cause as { message: string }).message).toMatch(/cannot encode field grpc.health.v1.HealthCheckResponse.status/);
    expect((failures[2]!.cause as { message: string }).message).toMatch(/cannot encode enum/);
    // None of them was counted a success first.
    expect(lines.filter((l) => l.msg === "call" && l.code === "ok")).toEqual([]);
  });
});

describe("headers and trailers an implementation writes", () => {
  // No documented method writes a trailer, so a service of the test's own
  // does: the fast paths carry what it wrote, and nothing when it wrote none.
  let server: http2.Http2Server;
  let baseUrl: string;
  beforeAll(async () => {
    const dispatcher = createUnaryDispatcher({
      services: [{
        service: Health,
        impl: {
          check: (req: { service: string }, ctx: HandlerContext) => {
            ctx.responseHeader.set("x-impl-header", "h");
            if (req.service === "with-trailer") ctx.responseTrailer.set("x-impl-trailer", "t");
            return create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
          },
        } as never,
      }],
      verifier: createApiClientVerifier([]),
      outcome: createCallOutcome(createLogger("silent"), () => false, { logCalls: false }),
    });
    ({ server, baseUrl } = await startFastPathServer(dispatcher));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const check = "/grpc.health.v1.Health/Check";
  const request = (service: string) => frame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));

  it("gRPC: the header with the reply's headers, the trailer beside grpc-status", async () => {
    const reply = await rawGrpc(baseUrl, check, request("with-trailer"));
    expect(reply.headers["x-impl-header"]).toBe("h");
    expect(reply.trailers).toMatchObject({ "grpc-status": "0", "x-impl-trailer": "t" });
    const plain = await rawGrpc(baseUrl, check, request("plain"));
    expect(plain.headers["x-impl-header"]).toBe("h");
    expect(plain.trailers?.["grpc-status"]).toBe("0");
    expect(plain.trailers?.["x-impl-trailer"]).toBeUndefined();
  });

  it("Connect: the header as it is, the trailer as a trailer- header", async () => {
    for (const service of ["with-trailer", "plain"]) {
      const session = http2.connect(baseUrl);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": check, "content-type": "application/json" });
        req.on("response", resolve);
        req.on("error", reject);
        req.resume();
        req.end(JSON.stringify({ service }));
      });
      session.close();
      expect(headers[":status"]).toBe(200);
      expect(headers["x-impl-header"]).toBe("h");
      expect(headers["trailer-x-impl-trailer"]).toBe(service === "with-trailer" ? "t" : undefined);
    }
  });
});

describe("a REST reply the service cannot encode", () => {
  // The transcoder renders JSON inside the call too: an implementation
  // answering a Struct that JSON cannot hold (NaN) is the call's failure.
  const lines: Record<string, unknown>[] = [];
  let server: http.Server;
  let baseUrl: string;
  beforeAll(async () => {
    const logger = loggerInto(lines);
    const services = [{ service: AuthStatusService, impl: { getAuthStatus: () => ({ success: true, valid: true, user: { power: Number.NaN } }) } as never }];
    const dispatcher = createUnaryDispatcher({ services, verifier: createApiClientVerifier([]), outcome: createCallOutcome(logger, () => false, { logCalls: false }) });
    const rest = createRestHandler({ routes: buildRestRoutes([AuthStatusService]), dispatcher, logger, maxBodyBytes: 4096 });
    server = http.createServer(rest);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("is the route's documented 500 body, logged as the call's failure with its cause and never counted a success", async () => {
    const res = await fetch(`${baseUrl}/auth/status`, { headers: { authorization: "Bearer x", "x-request-id": "rest-unencodable" } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["success", "valid", "error"]);
    expect(body.success).toBe(false);
    expect(body.valid).toBe(false);
    expect(body.error).toMatch(/ \[request_id: rest-unencodable\]$/);
    expect(res.headers.get("x-request-id")).toBe("rest-unencodable");

    // The access line is written when the response closes, just after the client has it.
    for (const deadline = Date.now() + 2000; !lines.some((l) => l.msg === "http request") && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const failure = lines.find((l) => l.msg === "call failed");
    expect(failure).toMatchObject({ requestId: "rest-unencodable", code: "internal" });
    expect(JSON.stringify(failure!.cause)).toMatch(/NaN/i);
    expect(lines.find((l) => l.msg === "http request")).toMatchObject({ requestId: "rest-unencodable", status: 500, code: "internal" });
    expect(lines.filter((l) => l.code === "ok")).toEqual([]);
  });
});
