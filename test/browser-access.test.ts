import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// What browsers need: CORS for the configured origins only, and gRPC-Web.

const allowed = "https://app.example.com";
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ CORS_ALLOWED_ORIGINS: `${allowed}, https://admin.example.com` });
});
afterAll(async () => t.close());

const preflight = (origin: string, path: string, headers: string) =>
  fetch(`${t.baseUrl}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
  });

test("a preflight from an allowed origin is answered with the Connect and credential headers", async () => {
  const res = await preflight(allowed, "/sessionstorage.v1.SessionStorageService/SaveSession", "content-type,connect-protocol-version,clientid,clientsecret");
  expect(res.status).toBe(204);
  expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
  const allowHeaders = res.headers.get("access-control-allow-headers")!.toLowerCase();
  for (const h of ["content-type", "connect-protocol-version", "clientid", "clientsecret", "authorization", "x-grpc-web"]) {
    expect(allowHeaders).toContain(h);
  }
  expect(res.headers.get("access-control-allow-methods")).toContain("POST");
});

test("a preflight from another origin is refused and names no origin", async () => {
  const res = await preflight("https://evil.example.net", "/api/v1/session-storage", "clientid");
  expect(res.status).toBe(403);
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
});

test("a REST call from an allowed origin carries CORS headers exposing x-request-id", async () => {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, { headers: { ...t.clientA.headers, origin: allowed } });
  expect(res.status).toBe(200);
  expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
  expect(res.headers.get("access-control-expose-headers")!.toLowerCase()).toContain("x-request-id");
  const other = await fetch(`${t.baseUrl}/api/v1/session-storage`, { headers: { ...t.clientA.headers, origin: "https://evil.example.net" } });
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
});

test("gRPC-Web calls work on the same port", async () => {
  const client = createClient(SessionStorageService, createGrpcWebTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
  const headers = { clientid: t.clientA.id, clientsecret: t.clientA.secret };
  const { session } = await client.saveSession({ userId: "grpc-web-user" }, { headers });
  expect(session?.userId).toBe("grpc-web-user");
  const validity = await client.getSessionValidity({ userId: "grpc-web-user" }, { headers });
  expect(validity.isValid).toBe(true);
  expect(validity.secondsRemaining).toBeGreaterThan(0);
});
