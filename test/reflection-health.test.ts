import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createFileRegistry, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { registerReflection } from "../src/services/register-reflection.js";
import { createHealthService } from "../src/services/health-service.js";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthListRequestSchema,
  HealthListResponseSchema,
  file_grpc_health_v1_health,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";
import { file_sessionstorage_v1_session_storage_service } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { file_sessionstorage_v1_sessions_service } from "../gen/sessionstorage/v1/sessions_service_pb.js";
import { file_sessionstorage_v1_rest } from "../gen/sessionstorage/v1/rest_pb.js";
import { reflect as reflectOn, type ReflectionRequestInit, type ReflectionResponse, type ReflectionVersion } from "./support/grpc-reflection-client.js";

const files = [
  file_sessionstorage_v1_session_storage_service,
  file_sessionstorage_v1_sessions_service,
  file_grpc_health_v1_health,
  v1.file_grpc_reflection_v1_reflection,
  v1alpha.file_grpc_reflection_v1alpha_reflection,
];

const health = createHealthService();
let server: http2.Http2Server;
let client: grpc.Client;

const serializer = <S extends DescMessage>(schema: S) => ({
  serialize: (value: MessageShape<S>) => Buffer.from(toBinary(schema, value)),
  deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
});

beforeAll(async () => {
  server = http2.createServer(
    connectNodeAdapter({
      routes: (router) => {
        registerReflection(router, files);
        health.register(router);
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  // close() waits for open HTTP/2 sessions; closing the client above ends them.
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

type Version = ReflectionVersion;

/** Sends all requests on one bidi stream and collects the responses. */
function reflect(version: Version, requests: ReflectionRequestInit[]): Promise<ReflectionResponse[]> {
  return reflectOn(client, version, requests);
}

async function reflectOne(version: Version, request: ReflectionRequestInit): Promise<ReflectionResponse> {
  const responses = await reflect(version, [request]);
  expect(responses).toHaveLength(1);
  return responses[0]!;
}

function fileDescriptors(response: ReflectionResponse | undefined): FileDescriptorProto[] {
  expect(response?.messageResponse.case).toBe("fileDescriptorResponse");
  if (response?.messageResponse.case !== "fileDescriptorResponse") return [];
  return response.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** Builds a registry from the first file, resolving imports only from the response: throws if any are missing. */
function registryFrom(protos: FileDescriptorProto[]) {
  const [first] = protos;
  expect(first).toBeDefined();
  const byName = new Map(protos.map((p) => [p.name, p]));
  return createFileRegistry(first!, (name) => byName.get(name));
}

const expectedServices = [
  "sessionstorage.v1.SessionStorageService",
  "sessionstorage.v1.SessionsService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

describe.each([
  ["v1", v1],
  ["v1alpha", v1alpha],
] as const)("server reflection %s over gRPC", (_label, version) => {
  it("lists every served service", async () => {
    const res = await reflectOne(version, { messageRequest: { case: "listServices", value: "" } });
    expect(res.messageResponse.case).toBe("listServicesResponse");
    const names = res.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service.map((s) => s.name) : [];
    expect(names.sort()).toEqual([...expectedServices].sort());
  });

  it("returns a service's file with all transitive dependencies", async () => {
    const res = await reflectOne(version, {
      messageRequest: { case: "fileContainingSymbol", value: "sessionstorage.v1.SessionStorageService" },
    });
    const protos = fileDescriptors(res);
    const names = protos.map((p) => p.name);
    expect(names[0]).toBe("sessionstorage/v1/session_storage_service.proto");
    expect(names).toEqual(
      expect.arrayContaining([
        "google/protobuf/timestamp.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/descriptor.proto",
        "google/api/http.proto",
        "google/api/annotations.proto",
        "sessionstorage/v1/rest.proto",
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    const registry = registryFrom(protos);
    const service = registry.getService("sessionstorage.v1.SessionStorageService");
    expect(service?.methods.map((m) => m.name)).toContain("SaveSession");
    expect(registry.getMessage("google.protobuf.Timestamp")?.fields.map((f) => f.name)).toEqual(["seconds", "nanos"]);
  });

  it("resolves methods, messages, nested messages, enums, fields and extensions", async () => {
    const symbols = [
      "sessionstorage.v1.SessionStorageService.SaveSession",
      "sessionstorage.v1.StoredSession",
      "sessionstorage.v1.SessionMetadata.LabelsEntry",
      "sessionstorage.v1.StoredSession.expires_at",
      ".sessionstorage.v1.StoredSession",
    ];
    const responses = await reflect(version, [
      ...symbols.map((value) => ({ messageRequest: { case: "fileContainingSymbol" as const, value } })),
      { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" } },
      { messageRequest: { case: "fileByFilename", value: "google/api/http.proto" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 72295728 },
        },
      },
    ]);
    expect(responses).toHaveLength(symbols.length + 3);
    for (const res of responses.slice(0, symbols.length)) {
      expect(fileDescriptors(res)[0]?.name).toBe("sessionstorage/v1/session_storage_service.proto");
    }
    expect(fileDescriptors(responses[symbols.length])[0]?.name).toBe("grpc/health/v1/health.proto");
    const http = fileDescriptors(responses[symbols.length + 1]);
    expect(http.map((p) => p.name)).toEqual(["google/api/http.proto"]);
    const ext = fileDescriptors(responses[symbols.length + 2]);
    expect(ext[0]?.name).toBe("google/api/annotations.proto");
    expect(ext.map((p) => p.name)).toContain("google/protobuf/descriptor.proto");
    expect(registryFrom(ext).getExtension("google.api.http")?.number).toBe(72295728);
  });

  it("lists extension numbers of a type", async () => {
    const res = await reflectOne(version, {
      messageRequest: { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" },
    });
    expect(res.messageResponse.case).toBe("allExtensionNumbersResponse");
    if (res.messageResponse.case !== "allExtensionNumbersResponse") return;
    expect(res.messageResponse.value.baseTypeName).toBe("google.protobuf.MethodOptions");
    const restMethod = file_sessionstorage_v1_rest.extensions.find((e) => e.extendee.typeName === "google.protobuf.MethodOptions");
    expect(restMethod).toBeDefined();
    expect(res.messageResponse.value.extensionNumber).toEqual(expect.arrayContaining([72295728, restMethod!.number]));
  });

  it("answers unknown symbols, files and types with NOT_FOUND error_response", async () => {
    const responses = await reflect(version, [
      { messageRequest: { case: "fileContainingSymbol", value: "nope.v1.Missing" } },
      { messageRequest: { case: "fileByFilename", value: "nope/missing.proto" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "nope.v1.Missing" } },
    ]);
    expect(responses).toHaveLength(3);
    for (const res of responses) {
      expect(res.messageResponse.case).toBe("errorResponse");
      if (res.messageResponse.case !== "errorResponse") continue;
      expect(res.messageResponse.value.errorCode).toBe(5);
      expect(res.messageResponse.value.errorMessage).toMatch(/not found/);
    }
    expect(responses[0]?.originalRequest?.messageRequest.value).toBe("nope.v1.Missing");
  });
});

const check = serializer(HealthCheckRequestSchema);
const checkRes = serializer(HealthCheckResponseSchema);

function healthCheck(service: string): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      check.serialize,
      checkRes.deserialize,
      { $typeName: "grpc.health.v1.HealthCheckRequest", service },
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

describe("health over gRPC", () => {
  it("Check reflects setStatus", async () => {
    health.setStatus("", "SERVING");
    expect((await healthCheck("")).status).toBe(ServingStatus.SERVING);
    health.setStatus("", "NOT_SERVING");
    expect((await healthCheck("")).status).toBe(ServingStatus.NOT_SERVING);
    health.setStatus("", "SERVING");
    health.setStatus("sessionstorage.v1.SessionStorageService", "SERVING");
    expect((await healthCheck("sessionstorage.v1.SessionStorageService")).status).toBe(ServingStatus.SERVING);
  });

  it("Check on an unknown service fails with NOT_FOUND", async () => {
    await expect(healthCheck("no.such.Service")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("List returns all known statuses", async () => {
    const list = serializer(HealthListRequestSchema);
    const listRes = serializer(HealthListResponseSchema);
    const res = await new Promise<MessageShape<typeof HealthListResponseSchema>>((resolve, reject) =>
      client.makeUnaryRequest(
        "/grpc.health.v1.Health/List",
        list.serialize,
        listRes.deserialize,
        { $typeName: "grpc.health.v1.HealthListRequest" },
        (err, r) => (err ? reject(err) : resolve(r!)),
      ),
    );
    expect(res.statuses[""]?.status).toBe(ServingStatus.SERVING);
    expect(res.statuses["sessionstorage.v1.SessionStorageService"]?.status).toBe(ServingStatus.SERVING);
  });

  it("Watch sends the current status, then changes; unknown services get SERVICE_UNKNOWN", async () => {
    const service = "watched.v1.Service";
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      check.serialize,
      checkRes.deserialize,
      { $typeName: "grpc.health.v1.HealthCheckRequest", service },
    );
    const seen: ServingStatus[] = [];
    const waitFor = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; saw ${seen.join(",")}`)), 5000);
        const onData = (msg: HealthCheckResponse) => {
          seen.push(msg.status);
          if (seen.length >= n) {
            clearTimeout(timer);
            call.off("data", onData);
            resolve();
          }
        };
        call.on("data", onData);
      });
    call.on("error", () => {}); // cancel() below surfaces as CANCELLED.

    await waitFor(1);
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN]);
    const next = waitFor(3);
    health.setStatus(service, "SERVING");
    health.setStatus(service, "NOT_SERVING");
    await next;
    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    call.cancel();
  });

  it("shutdown sends NOT_SERVING, ends Watch streams and ignores later setStatus", async () => {
    const service = "sessionstorage.v1.SessionStorageService";
    const call = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      check.serialize,
      checkRes.deserialize,
      { $typeName: "grpc.health.v1.HealthCheckRequest", service },
    );
    const seen: ServingStatus[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (msg: HealthCheckResponse) => {
        seen.push(msg.status);
        if (seen.length === 1) health.shutdown();
      });
      call.on("end", resolve);
      call.on("error", reject);
    });
    await ended;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    health.setStatus("", "SERVING");
    expect((await healthCheck("")).status).toBe(ServingStatus.NOT_SERVING);
  });
});
