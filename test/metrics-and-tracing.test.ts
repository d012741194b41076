/**
 * Monitoring: /metrics after a mixed run counts exactly the calls made (by
 * service, method, protocol and code), Redis commands, session changes and
 * process metrics, with no unbounded label; W3C trace context is joined on
 * every protocol, logged and returned; spans are exported over OTLP/HTTP
 * only when an endpoint is configured.
 */
import http from "node:http";
import type net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

type Json = Record<string, unknown>;

async function save(t: TestApp, userId: string): Promise<{ id: string; token: string; status: number }> {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId }),
  });
  const body = (await res.json()) as Json;
  return { id: body.id as string, token: body.token as string, status: res.status };
}

/** One sample's value from the Prometheus text format, by name and exact labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.keys(labels).length === Object.keys(found).filter((k) => k !== "le").length && Object.entries(labels).every(([k, v]) => found[k] === v)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

describe("GET /metrics", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_SESSIONS_PER_USER: "2", CORS_ALLOWED_ORIGINS: "http://front.example" });
  });
  afterAll(() => t.close());

  it("after a mixed run counts every call, session change and Redis command, with bounded labels", async () => {
    const a = await save(t, "metrics-user");
    const b = await save(t, "metrics-user");
    const refused = await save(t, "metrics-user");
    expect([a.status, b.status, refused.status]).toEqual([200, 200, 429]);
    const bearer = { authorization: `Bearer ${a.token}` };
    for (let i = 0; i < 5; i++) expect((await fetch(`${t.baseUrl}/auth/status`, { headers: bearer })).status).toBe(200);
    const connect = createClient(AuthStatusService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    for (let i = 0; i < 3; i++) expect((await connect.getAuthStatus({}, { headers: bearer })).valid).toBe(true);
    const grpc = createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl }));
    for (let i = 0; i < 4; i++) expect((await grpc.getAuthStatus({}, { headers: bearer })).valid).toBe(true);
    const grpcWeb = createClient(AuthStatusService, createGrpcWebTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    expect((await grpcWeb.getAuthStatus({}, { headers: bearer })).valid).toBe(true);
    const storage = createClient(SessionStorageService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const denied = await storage.listStoredSessions({}).catch((e: unknown) => ConnectError.from(e));
    expect((denied as ConnectError).code).toBe(Code.Unauthenticated);
    expect((await fetch(`${t.baseUrl}/v1/client/sessions/${b.id}/end`, { method: "POST", headers: { authorization: `Bearer ${b.token}` } })).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/api/v1/session-storage/${a.id}`, { method: "DELETE", headers: t.clientA.headers })).status).toBe(200);

    const res = await fetch(`${t.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const calls = (protocol: string, code = "ok", service = "sessionstorage.v1.AuthStatusService", method = "GetAuthStatus") =>
      sample(text, "sss_calls_total", { service, method, protocol, code });
    expect(calls("rest")).toBe(5);
    expect(calls("connect")).toBe(3);
    expect(calls("grpc")).toBe(4);
    expect(calls("grpc_web")).toBe(1);
    expect(calls("grpc", "unauthenticated", "sessionstorage.v1.SessionStorageService", "ListStoredSessions")).toBe(1);
    expect(calls("rest", "ok", "sessionstorage.v1.SessionStorageService", "SaveSession")).toBe(2);
    expect(calls("rest", "resource_exhausted", "sessionstorage.v1.SessionStorageService", "SaveSession")).toBe(1);
    expect(sample(text, "sss_call_duration_seconds_count", { service: "sessionstorage.v1.AuthStatusService", method: "GetAuthStatus" })).toBe(13);
    for (const protocol of ["rest", "connect", "grpc", "grpc_web"]) expect(sample(text, "sss_calls_in_flight", { protocol })).toBe(0);
    expect(sample(text, "sss_sessions_total", { change: "created" })).toBe(2);
    expect(sample(text, "sss_sessions_total", { change: "refused_at_limit" })).toBe(1);
    expect(sample(text, "sss_sessions_total", { change: "ended" })).toBe(1);
    expect(sample(text, "sss_sessions_total", { change: "deleted" })).toBe(1);
    // Each validation is one script call; creates and the rest add their own.
    expect(sample(text, "sss_redis_command_duration_seconds_count", { command: "evalsha" })).toBeGreaterThanOrEqual(13);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    // No label value may come from a request: no user id, session id, token or path.
    for (const secret of ["metrics-user", a.id, a.token, "/auth/status"]) expect(text).not.toContain(secret);
  });
});

describe("METRICS_PORT", () => {
  it("off: no /metrics anywhere", async () => {
    const t = await startTestApp({ METRICS_PORT: "off" });
    try {
      expect(t.app.metricsServer).toBeUndefined();
      expect((await fetch(`${t.baseUrl}/metrics`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it("a port of its own: /metrics there, not on the service's port", async () => {
    const t = await startTestApp({ METRICS_PORT: "9464" });
    const server = t.app.metricsServer!;
    try {
      // The test listens on a free port; the service itself would use 9464.
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as net.AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("sss_calls_total");
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      expect((await fetch(`${t.baseUrl}/metrics`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe("trace context", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentId = "00f067aa0ba902b7";
  const traceparent = `00-${traceId}-${parentId}-01`;
  let t: TestApp;
  let token = "";
  beforeAll(async () => {
    t = await startTestApp();
    token = (await save(t, "trace-user")).token;
  });
  afterAll(() => t.close());

  const returned = (value: string | null) => {
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(value ?? "");
    expect(match, `traceparent ${value}`).not.toBeNull();
    expect(match![1]).toBe(traceId);
    expect(match![2]).not.toBe(parentId);
    return match![2]!;
  };
  const loggedWith = (spanId: string) => t.logs.map((l) => JSON.parse(l) as Json).filter((l) => l.traceId === traceId && l.spanId === spanId);

  it("REST: the reply names this call's span under the caller's trace, and the access line carries both ids", async () => {
    const res = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}`, traceparent, tracestate: "vendor=abc" } });
    expect(res.status).toBe(200);
    const spanId = returned(res.headers.get("traceparent"));
    expect(res.headers.get("tracestate")).toBe("vendor=abc");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loggedWith(spanId).map((l) => l.msg)).toContain("http request");
  });

  it("Connect and gRPC: the same, on the call line; errors carry it too", async () => {
    for (const transport of [createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }), createGrpcTransport({ baseUrl: t.baseUrl })]) {
      let header: Headers | undefined;
      const client = createClient(AuthStatusService, transport);
      await client.getAuthStatus({}, { headers: { authorization: `Bearer ${token}`, traceparent }, onHeader: (h) => (header = h) });
      const spanId = returned(header!.get("traceparent"));
      expect(loggedWith(spanId).map((l) => l.msg)).toContain("call");
      const storage = createClient(SessionStorageService, transport);
      const error = ConnectError.from(await storage.listStoredSessions({}, { headers: { traceparent } }).catch((e: unknown) => e));
      expect(error.code).toBe(Code.Unauthenticated);
      returned(error.metadata.get("traceparent"));
    }
  });

  it("without traceparent, no trace fields and no traceparent in the reply; a malformed one is ignored", async () => {
    const plain = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(plain.headers.get("traceparent")).toBeNull();
    const bad = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}`, traceparent: "00-zz-yy-01" } });
    expect(bad.status).toBe(200);
    expect(bad.headers.get("traceparent")).toBeNull();
  });
});

/** A small OTLP/HTTP receiver: the spans of every batch it was sent. */
async function startOtlpReceiver() {
  const received: Json[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}`,
    spans: () =>
      received.flatMap((body) =>
        (body.resourceSpans as Json[]).flatMap((rs) => (rs.scopeSpans as Json[]).flatMap((ss) => (ss.spans as Json[]).map((span): Json => ({ ...span, resource: rs.resource })))),
      ),
    close: () => new Promise((resolve) => receiver.close(resolve)),
  };
}

describe("span export over OTLP/HTTP", () => {
  it("with OTEL_EXPORTER_OTLP_ENDPOINT every call is a server span, a child of the caller's, sent to the receiver", async () => {
    const receiver = await startOtlpReceiver();
    const t = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "sss-under-test" });
    try {
      const { token } = await save(t, "otlp-user");
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const res = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
      const spanId = /^00-[0-9a-f]{32}-([0-9a-f]{16})-01$/.exec(res.headers.get("traceparent") ?? "")?.[1];
      // A call without a traceparent starts a trace: its reply names the span that is exported.
      const rootless = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
      const [, rootTrace, rootSpan] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(rootless.headers.get("traceparent") ?? "") ?? [];
      expect(rootTrace).toBeDefined();
      // Closing flushes the batch.
      await t.close();
      const spans = receiver.spans();
      const span = spans.find((s) => s.traceId === traceId);
      expect(span, JSON.stringify(spans)).toBeDefined();
      expect(span!.spanId).toBe(spanId);
      expect(span!.parentSpanId).toBe("b7ad6b7169203331");
      const root = spans.find((s) => s.traceId === rootTrace);
      expect(root, JSON.stringify(spans)).toBeDefined();
      expect(root!.spanId).toBe(rootSpan);
      expect(root!.parentSpanId ?? "").toBe("");
      expect(span!.name).toBe("sessionstorage.v1.AuthStatusService/GetAuthStatus");
      expect(JSON.stringify(span!.resource)).toContain("sss-under-test");
      // The create had no traceparent: with export on it is a root span of its own.
      expect(spans.some((s) => s.name === "sessionstorage.v1.SessionStorageService/SaveSession" && !s.parentSpanId)).toBe(true);
    } finally {
      await t.close();
      await receiver.close();
    }
  });

  it("OTEL_TRACES_SAMPLER=traceidratio 0.5 samples half the new traces, and exports exactly the calls whose reply says sampled", async () => {
    const receiver = await startOtlpReceiver();
    const t = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" });
    try {
      const { token } = await save(t, "ratio-user");
      const replies: string[] = [];
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
        replies.push(res.headers.get("traceparent") ?? "");
      }
      await t.close();
      const exported = new Set(receiver.spans().filter((s) => String(s.name).endsWith("/GetAuthStatus")).map((s) => `${s.traceId}-${s.spanId}`));
      const sampled = replies.filter((r) => r.endsWith("-01"));
      // The sampler is asked before the span starts, with the ids the span then takes:
      // were they drawn twice, only about a quarter would be sampled.
      expect(sampled.length).toBeGreaterThan(70);
      expect(sampled.length).toBeLessThan(130);
      for (const reply of replies) expect(exported.has(reply.slice(3, 52)), reply).toBe(reply.endsWith("-01"));
      expect(exported.size).toBe(sampled.length);
    } finally {
      await t.close();
      await receiver.close();
    }
  });

  it("OTEL_TRACES_SAMPLER=parentbased_traceidratio with ratio 0 exports only calls whose caller sampled them", async () => {
    const receiver = await startOtlpReceiver();
    const t = await startTestApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0",
    });
    try {
      const { token } = await save(t, "sampled-user");
      const headers = (traceparent: string) => ({ authorization: `Bearer ${token}`, traceparent });
      const sampledTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
      const unsampledTrace = "5bf92f3577b34da6a3ce929d0e0e4737";
      // A caller that did not sample, and one without a trace: their calls are not recorded...
      const unsampled = await fetch(`${t.baseUrl}/auth/status`, { headers: headers(`00-${unsampledTrace}-00f067aa0ba902b7-00`) });
      const rootless = await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
      // ...but still join the caller's trace in the reply (flags 00).
      expect(unsampled.headers.get("traceparent")).toMatch(new RegExp(`^00-${unsampledTrace}-[0-9a-f]{16}-00$`));
      const rootlessTrace = /^00-([0-9a-f]{32})-[0-9a-f]{16}-00$/.exec(rootless.headers.get("traceparent") ?? "")?.[1];
      expect(rootlessTrace).toBeDefined();
      // A caller that sampled is followed: its span is the positive control for the two above.
      const sampled = await fetch(`${t.baseUrl}/auth/status`, { headers: headers(`00-${sampledTrace}-00f067aa0ba902b7-01`) });
      expect(sampled.headers.get("traceparent")).toMatch(/-01$/);
      await t.close();
      const traces = new Set(receiver.spans().map((s) => s.traceId));
      expect(traces.has(sampledTrace)).toBe(true);
      expect(traces.has(unsampledTrace)).toBe(false);
      expect(traces.has(rootlessTrace)).toBe(false);
      // The create (no traceparent) was not sampled either: only the one span left.
      expect(receiver.spans()).toHaveLength(1);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
