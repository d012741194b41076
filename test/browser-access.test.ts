import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// What browsers need: CORS for the configured origins only, the headers a
// front end sends (a session token, trace context), never an API client's
// credentials unless configured, and gRPC-Web.

const allowed = "https://app.example.com";
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ CORS_ALLOWED_ORIGINS: `${allowed}, https://admin.example.com` });
});
afterAll(async () => t.close());

const preflight = (app: TestApp, origin: string, path: string, headers: string, method = "POST") =>
  fetch(`${app.baseUrl}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  });

type LogLine = Record<string, unknown>;
const refusals = (app: TestApp): LogLine[] =>
  app.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg === "CORS preflight refused");

test("a preflight from an allowed origin is answered with the Connect, token and trace-context headers", async () => {
  const res = await preflight(t, allowed, "/sessionstorage.v1.SessionStorageService/SaveSession",
    "content-type,connect-protocol-version,authorization,traceparent,tracestate,x-request-id");
  expect(res.status).toBe(204);
  expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
  expect(res.headers.get("access-control-allow-credentials")).toBe("true");
  const allowHeaders = res.headers.get("access-control-allow-headers")!.toLowerCase().split(/,\s*/);
  for (const h of ["content-type", "connect-protocol-version", "authorization", "x-grpc-web", "traceparent", "tracestate", "x-request-id"]) {
    expect(allowHeaders).toContain(h);
  }
  expect(allowHeaders).not.toContain("clientid");
  expect(allowHeaders).not.toContain("clientsecret");
  expect(res.headers.get("access-control-allow-methods")).toContain("POST");
});

test("ClientID and ClientSecret are refused from browsers by default, and the refusal is logged with its reason", async () => {
  const res = await preflight(t, allowed, "/api/v1/session-storage", "content-type,clientid,clientsecret");
  expect(res.status).toBe(403);
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  expect(refusals(t)).toContainEqual(expect.objectContaining({ level: 30, origin: allowed, reason: "header not allowed", headers: ["clientid", "clientsecret"] }));
});

test("a preflight from another origin is refused, names no origin, and is logged", async () => {
  const res = await preflight(t, "https://evil.example.net", "/api/v1/session-storage", "authorization");
  expect(res.status).toBe(403);
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  expect(refusals(t)).toContainEqual(expect.objectContaining({ level: 30, origin: "https://evil.example.net", reason: "origin not allowed" }));
});

test("a preflight for a method no route takes is refused and logged", async () => {
  const res = await preflight(t, allowed, "/api/v1/session-storage", "authorization", "PATCH");
  expect(res.status).toBe(403);
  expect(refusals(t)).toContainEqual(expect.objectContaining({ origin: allowed, reason: "method not allowed", method: "PATCH" }));
});

test("a REST call from an allowed origin carries CORS headers exposing x-request-id and the gRPC status", async () => {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, { headers: { ...t.clientA.headers, origin: allowed } });
  expect(res.status).toBe(200);
  expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
  const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase().split(/,\s*/);
  for (const h of ["x-request-id", "grpc-status", "grpc-message"]) expect(exposed).toContain(h);
  const other = await fetch(`${t.baseUrl}/api/v1/session-storage`, { headers: { ...t.clientA.headers, origin: "https://evil.example.net" } });
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
});

describe("CORS_ALLOWED_HEADERS and *", () => {
  let wide: TestApp;
  beforeAll(async () => {
    wide = await startTestApp({ CORS_ALLOWED_ORIGINS: `*,${allowed}`, CORS_ALLOWED_HEADERS: "X-Tenant-Hint, baggage" });
  });
  afterAll(async () => wide.close());

  test("configured headers are allowed on top of the built-in ones", async () => {
    const res = await preflight(wide, allowed, "/auth/status", "authorization,x-tenant-hint,baggage", "GET");
    expect(res.status).toBe(204);
    const allowHeaders = res.headers.get("access-control-allow-headers")!.toLowerCase();
    expect(allowHeaders).toContain("x-tenant-hint");
    expect(allowHeaders).toContain("baggage");
    expect((await preflight(wide, allowed, "/auth/status", "x-unlisted", "GET")).status).toBe(403);
  });

  test("* lets any origin call without credentials; a named origin keeps them", async () => {
    const any = await preflight(wide, "https://anyone.example.org", "/auth/status", "authorization", "GET");
    expect(any.status).toBe(204);
    expect(any.headers.get("access-control-allow-origin")).toBe("https://anyone.example.org");
    expect(any.headers.get("access-control-allow-credentials")).toBeNull();
    const named = await preflight(wide, allowed, "/auth/status", "authorization", "GET");
    expect(named.headers.get("access-control-allow-credentials")).toBe("true");
  });
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
