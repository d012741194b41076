/**
 * gRPC infrastructure through the FULL server on its one port: server
 * reflection (what grpcurl uses) and grpc.health.v1.Health, with a bare
 * @grpc/grpc-js client; health turns NOT_SERVING on shutdown.
 */
import http from "node:http";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";
import { startTestApp, type TestApp } from "./support/test-app.js";
import { reflect, type ReflectionResponse } from "./support/grpc-reflection-client.js";

const serializer = <S extends DescMessage>(schema: S) => ({
  serialize: (value: MessageShape<S>) => Buffer.from(toBinary(schema, value)),
  deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
});
const check = serializer(HealthCheckRequestSchema);
const checkRes = serializer(HealthCheckResponseSchema);

function healthCheck(client: grpc.Client, service: string): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      check.serialize,
      checkRes.deserialize,
      create(HealthCheckRequestSchema, { service }),
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}


function listedServices(res: ReflectionResponse | undefined): string[] {
  expect(res?.messageResponse.case).toBe("listServicesResponse");
  return res?.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service.map((s) => s.name) : [];
}

describe("reflection and health on the full server", () => {
  let t: TestApp;
  let client: grpc.Client;
  let closed = false;

  beforeAll(async () => {
    t = await startTestApp();
    client = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    if (!closed) await t?.close();
  });

  it.each([
    ["v1", v1],
    ["v1alpha", v1alpha],
  ] as const)("reflection %s list_services names the session service, health and reflection", async (_label, version) => {
    const [res] = await reflect(client, version, [{ messageRequest: { case: "listServices", value: "" } }]);
    const names = listedServices(res);
    expect(names).toEqual(
      expect.arrayContaining([
        "sessionstorage.v1.SessionStorageService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it("reflection describes the session service well enough to call it (as grpcurl would)", async () => {
    const [res] = await reflect(client, v1, [
      { messageRequest: { case: "fileContainingSymbol", value: "sessionstorage.v1.SessionStorageService" } },
    ]);
    expect(res?.messageResponse.case).toBe("fileDescriptorResponse");
    if (res?.messageResponse.case !== "fileDescriptorResponse") return;
    const protos = res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    const byName = new Map(protos.map((p) => [p.name, p]));
    const registry = createFileRegistry(protos[0]!, (name) => byName.get(name));
    const service = registry.getService("sessionstorage.v1.SessionStorageService");
    expect(service?.methods.map((m) => m.name).sort()).toEqual(
      [
        "ClearSessions",
        "DeleteStoredSession",
        "GetCurrentSession",
        "GetSessionValidity",
        "GetStoredSession",
        "ListStoredSessions",
        "SaveSession",
        "UpdateStoredSession",
      ].sort(),
    );
    expect(registry.getMessage("sessionstorage.v1.SaveSessionRequest")?.fields.map((f) => f.name)).toContain("user_id");
  });

  it("Health/Check answers SERVING for the server and for the session service", async () => {
    expect((await healthCheck(client, "")).status).toBe(ServingStatus.SERVING);
    expect((await healthCheck(client, "sessionstorage.v1.SessionStorageService")).status).toBe(ServingStatus.SERVING);
    await expect(healthCheck(client, "no.such.Service")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("streaming calls are logged once, when they end: an open Watch is not logged as ok", async () => {
    const lines = (procedure: string) =>
      t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.procedure === procedure);
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i++) await sleep(20);
      expect(check()).toBe(true);
    };
    const watch = "grpc.health.v1.Health/Watch";
    const call = client.makeServerStreamRequest(
      `/${watch}`,
      check.serialize,
      checkRes.deserialize,
      create(HealthCheckRequestSchema, { service: "" }),
    );
    call.on("error", () => {}); // the cancel below
    await new Promise((resolve) => call.once("data", resolve));
    await sleep(100);
    expect(lines(watch)).toEqual([]);
    call.cancel();
    await until(() => lines(watch).length === 1);
    const [line] = lines(watch);
    expect(line).toMatchObject({ code: "canceled" });
    expect(line!.ms as number).toBeGreaterThanOrEqual(100);
    expect(typeof line!.requestId).toBe("string");

    const reflection = "grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    const before = lines(reflection).length;
    await reflect(client, v1, [{ messageRequest: { case: "listServices", value: "" } }]);
    await until(() => lines(reflection).length === before + 1);
    expect(lines(reflection).at(-1)).toMatchObject({ code: "ok" });
  });

  it("on close(): an open Watch sees NOT_SERVING and ends; Check on the health object answers NOT_SERVING", async () => {
    const service = "sessionstorage.v1.SessionStorageService";
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      check.serialize,
      checkRes.deserialize,
      create(HealthCheckRequestSchema, { service }),
    );
    const seen: ServingStatus[] = [];
    let closing: Promise<void> | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (msg: HealthCheckResponse) => {
        seen.push(msg.status);
        if (seen.length === 1) {
          closed = true;
          closing = t.close();
        }
      });
      call.on("end", resolve);
      call.on("error", reject);
    });
    await ended;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    await closing;

    // The server no longer accepts calls; its health object still answers, NOT_SERVING for everything.
    const health = createClient(Health, createRouterTransport((router) => t.app.health.register(router)));
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
    expect((await health.check({ service })).status).toBe(ServingStatus.NOT_SERVING);
    // Shutdown is final: a Redis "ready" event after it cannot flip it back.
    t.app.health.setStatus("", "SERVING");
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);

    // And a new gRPC call does not reach a closed server.
    const fresh = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure());
    fresh.waitForReady(Date.now() + 200, () => {});
    await expect(
      new Promise((resolve, reject) =>
        fresh.makeUnaryRequest(
          "/grpc.health.v1.Health/Check",
          check.serialize,
          checkRes.deserialize,
          create(HealthCheckRequestSchema, { service: "" }),
          { deadline: Date.now() + 1000 },
          (err, r) => (err ? reject(err) : resolve(r)),
        ),
      ),
    ).rejects.toMatchObject({ code: expect.any(Number) });
    fresh.close();
  });
});

describe("health follows Redis reachability", () => {
  let t: TestApp;
  beforeAll(async () => {
    // A port nothing listens on: the store cannot connect.
    t = await startTestApp({ REDIS_URL: "redis://127.0.0.1:1" });
  });
  afterAll(async () => t?.close());

  it("Health/Check is NOT_SERVING and session calls are UNAVAILABLE (503 over REST) while Redis is unreachable", async () => {
    const client = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure());
    try {
      expect((await healthCheck(client, "")).status).toBe(ServingStatus.NOT_SERVING);
      expect((await healthCheck(client, "sessionstorage.v1.SessionStorageService")).status).toBe(ServingStatus.NOT_SERVING);
    } finally {
      client.close();
    }
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "usr_down" }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("unavailable");
    expect(body.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\bat /);
  });
});

// ---------------------------------------------------------------------------
// The one-port sniff must not guess from a partial first packet.

/** A TCP proxy that forwards the client's first bytes one at a time, with pauses, like a slow or fragmenting network. */
async function trickleProxy(targetPort: number, trickleBytes = 30): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let sent = 0;
    let queue = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      client.pause();
      queue = queue.then(async () => {
        for (let i = 0; i < chunk.length; ) {
          if (sent < trickleBytes) {
            upstream.write(chunk.subarray(i, i + 1));
            sent++;
            i++;
            await sleep(5);
          } else {
            upstream.write(chunk.subarray(i));
            break;
          }
        }
        client.resume();
      });
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe("one port: the HTTP/1.1 vs HTTP/2 sniff with a fragmented first packet", () => {
  let t: TestApp;
  let proxy: { port: number; close(): void };
  beforeAll(async () => {
    t = await startTestApp();
    proxy = await trickleProxy(t.port);
  });
  afterAll(async () => {
    proxy?.close();
    await t?.close();
  });

  it("an HTTP/1.1 POST arriving a byte at a time (\"P\" also begins the HTTP/2 preface) is served as HTTP/1.1", async () => {
    const post = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: proxy.port,
          method: "POST",
          path: "/api/v1/session-storage",
          headers: { ...t.clientA.headers, "content-type": "application/json" },
          agent: false,
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ user_id: "usr_trickle" }));
    });
    expect(post.status).toBe(200);
    expect(JSON.parse(post.body)).toMatchObject({ user_id: "usr_trickle", is_valid: true });
  });

  it("gRPC (HTTP/2 prior knowledge) whose preface arrives a byte at a time is served as HTTP/2", async () => {
    const client = new grpc.Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure());
    try {
      expect((await healthCheck(client, "")).status).toBe(ServingStatus.SERVING);
    } finally {
      client.close();
    }
  });
});
