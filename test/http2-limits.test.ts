import { create, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SaveSessionRequestSchema } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { connectRawHttp2 } from "./support/raw-http2-client.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// One HTTP/2 connection must not be able to hold unbounded streams, stall
// requests forever, or send unbounded header lists; and a connection whose
// only streams are stalled requests must still be closed when idle.

const settingMaxConcurrentStreams = 3;
const settingMaxHeaderListSize = 6;
const { NGHTTP2_CANCEL } = http2.constants;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ HTTP_REQUEST_TIMEOUT_MS: "1000", HTTP2_IDLE_TIMEOUT_MS: "500" });
});
afterAll(async () => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (condition()) return true;
  return condition();
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const heapUsed = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

test("the server advertises bounded SETTINGS: 100 concurrent streams, 16 KiB of headers", async () => {
  const c = await connectRawHttp2(t.port);
  try {
    expect(c.settings.get(settingMaxConcurrentStreams)).toBe(100);
    expect(c.settings.get(settingMaxHeaderListSize)).toBe(16 * 1024);
  } finally {
    c.destroy();
  }
});

test("5,000 stalled POST streams on one connection: at most the limit are accepted, and memory stays flat", async () => {
  const before = heapUsed();
  const c = await connectRawHttp2(t.port);
  const headers = { "content-type": "application/json", "x-request-id": "stalled-5000", ...t.clientA.headers };
  try {
    // In batches, as a real client's writes would arrive.
    for (let i = 0; i < 5000 && !c.closed(); i++) {
      if (i % 250 === 0) await sleep(10);
      c.openStalledPost("/api/v1/session-storage", headers, "{");
    }
    // A client that ignores the limit has its extra streams refused, or is disconnected.
    expect(await until(() => c.closed() || c.resets.size >= 4900, 5000)).toBe(true);
    expect(c.answered.size).toBe(0); // none of them was served
    await sleep(200);
    // Every stream the server accepted wrote an access line when it ended.
    const accepted = t.logs.filter((l) => l.includes('"requestId":"stalled-5000"')).length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(100);
    expect(heapUsed() - before).toBeLessThan(15 * 1024 * 1024);
  } finally {
    c.destroy();
  }
}, 20_000);

test("stalled streams within the limit are reset after HTTP_REQUEST_TIMEOUT_MS, and their memory freed", async () => {
  const before = heapUsed();
  const c = await connectRawHttp2(t.port);
  try {
    const ids = Array.from({ length: 100 }, () =>
      c.openStalledPost("/sessionstorage.v1.SessionStorageService/SaveSession", { "content-type": "application/json", ...t.clientA.headers }, "{"));
    await sleep(300);
    expect(c.resets.size).toBe(0); // all accepted, none timed out yet
    expect(await until(() => ids.every((id) => c.resets.has(id)), 4000)).toBe(true);
    expect(ids.every((id) => c.resets.get(id) === NGHTTP2_CANCEL)).toBe(true);
    expect(heapUsed() - before).toBeLessThan(10 * 1024 * 1024);
  } finally {
    c.destroy();
  }
}, 20_000);

test("a stalled request is cut after the request timeout on every path, and never served", async () => {
  const client = http2.connect(t.baseUrl);
  client.on("error", () => undefined);
  const rpc = "/sessionstorage.v1.SessionStorageService/SaveSession";
  // Each sends a complete message but never ends its request: served anyway, it would store a session.
  const envelope = (userId: string) => {
    const message = toBinary(SaveSessionRequestSchema, create(SaveSessionRequestSchema, { userId }));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    return Buffer.concat([head, message]);
  };
  const cases: Array<[string, http2.OutgoingHttpHeaders, Buffer | string]> = [
    ["stalled-grpc", { ":path": rpc, "content-type": "application/grpc", te: "trailers" }, envelope("stalled-grpc")],
    ["stalled-grpc-web", { ":path": rpc, "content-type": "application/grpc-web+proto" }, envelope("stalled-grpc-web")],
    ["stalled-connect", { ":path": rpc, "content-type": "application/json" }, '{"userId":"stalled-connect"}'],
    ["stalled-rest", { ":path": "/api/v1/session-storage", "content-type": "application/json" }, '{"user_id":"stalled-rest"}'],
  ];
  try {
    const started = Date.now();
    const outcomes = await Promise.all(cases.map(([label, headers, body]) => new Promise<{ label: string; ms: number; rstCode?: number; grpcStatus?: unknown }>((resolve) => {
      const stream = client.request({ ":method": "POST", ...t.clientA.headers, ...headers });
      let grpcStatus: unknown;
      stream.on("response", (h) => (grpcStatus = h["grpc-status"]));
      stream.on("error", () => undefined);
      stream.resume();
      stream.write(body);
      stream.on("close", () => resolve({ label, ms: Date.now() - started, rstCode: stream.rstCode, grpcStatus }));
    })));
    for (const outcome of outcomes) {
      expect(outcome.ms, outcome.label).toBeGreaterThanOrEqual(900);
      expect(outcome.ms, outcome.label).toBeLessThan(3500);
    }
    // The unary gRPC fast path answers DEADLINE_EXCEEDED; the others are reset.
    expect(outcomes[0]).toMatchObject({ grpcStatus: "4" });
    for (const outcome of outcomes.slice(1)) expect(outcome, outcome.label).toMatchObject({ rstCode: NGHTTP2_CANCEL });
    await sleep(200);
    for (const [userId] of cases) {
      const res = await fetch(`${t.baseUrl}/api/v1/session-storage?user_id=${userId}`, { headers: t.clientA.headers });
      expect(res.status).toBe(200);
      expect(JSON.stringify(await res.json()), userId).not.toContain(userId);
    }
  } finally {
    client.close();
  }
}, 20_000);

test("a request its client resets before END_STREAM is never served, whatever its body, on every path", async () => {
  const c = await connectRawHttp2(t.port);
  const rpc = "/sessionstorage.v1.SessionStorageService/SaveSession";
  const envelope = (userId: string) => {
    const message = toBinary(SaveSessionRequestSchema, create(SaveSessionRequestSchema, { userId }));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    return Buffer.concat([head, message]).toString("latin1");
  };
  // Each body is a complete request: served, it would store a session for its user.
  const cases: Array<[string, Record<string, string>, string]> = [
    ["reset-grpc", { "content-type": "application/grpc", te: "trailers" }, envelope("reset-grpc")],
    ["reset-grpc-web", { "content-type": "application/grpc-web+proto" }, envelope("reset-grpc-web")],
    ["reset-connect", { "content-type": "application/json" }, '{"userId":"reset-connect"}'],
    ["reset-rest", { "content-type": "application/json" }, '{"user_id":"reset-rest"}'],
  ];
  try {
    const ids = cases.map(([label, headers, body]) =>
      c.openStalledPost(label === "reset-rest" ? "/api/v1/session-storage" : rpc, { ...t.clientA.headers, "x-request-id": label, ...headers }, body));
    await sleep(100);
    for (const id of ids) c.reset(id);
    await sleep(300);
    // The positive control: the same connection still serves a request that ends.
    const control = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: '{"user_id":"reset-control"}',
    });
    expect(control.status).toBe(200);
    for (const userId of [...cases.map(([label]) => label), "reset-control"]) {
      const res = await fetch(`${t.baseUrl}/api/v1/session-storage?user_id=${userId}`, { headers: t.clientA.headers });
      expect(res.status).toBe(200);
      const listed = JSON.stringify(await res.json()).includes(userId);
      expect(listed, userId).toBe(userId === "reset-control");
    }
    // The REST access line says the request was cut, with no status it never had.
    const access = t.logs.filter((l) => l.includes('"requestId":"reset-rest"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ msg: "http request", aborted: true });
    expect(access[0]!.status).toBeUndefined();
  } finally {
    c.destroy();
  }
}, 20_000);

test("a health Watch stream, its request complete, stays open past the request timeout", async () => {
  const client = http2.connect(t.baseUrl);
  let closed = false;
  client.once("close", () => (closed = true));
  try {
    const watch = client.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/grpc", te: "trailers" });
    let messages = 0;
    watch.on("data", () => messages++);
    watch.end(Buffer.alloc(5)); // one empty HealthCheckRequest
    await sleep(2500);
    expect(messages).toBeGreaterThan(0);
    expect(watch.closed).toBe(false);
    expect(closed).toBe(false);
    watch.close();
  } finally {
    client.close();
  }
}, 20_000);

test("a connection whose only stream is a stalled request is still closed when idle", async () => {
  const client = http2.connect(t.baseUrl);
  client.on("error", () => undefined);
  const closing = new Promise<boolean>((resolve) => client.once("close", () => resolve(true)));
  const stalled = client.request({ ":method": "POST", ":path": "/api/v1/session-storage", "content-type": "application/json", ...t.clientA.headers });
  stalled.on("error", () => undefined);
  stalled.write("{");
  expect(await Promise.race([closing, sleep(5000).then(() => false)])).toBe(true);
}, 20_000);

test("a header list over HTTP_MAX_HEADER_BYTES is refused before any handler runs; one under it is served", async () => {
  const client = http2.connect(t.baseUrl);
  client.on("error", () => undefined);
  try {
    const send = (size: number) => new Promise<{ status?: number; rstCode?: number }>((resolve) => {
      const req = client.request({ ":path": "/.well-known/jwks.json", "x-request-id": `big-${size}`, "x-filler": "a".repeat(size) });
      let status: number | undefined;
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("error", () => undefined);
      req.resume();
      req.on("close", () => resolve({ status, rstCode: req.rstCode }));
    });
    expect(await send(8 * 1024)).toMatchObject({ status: 200 });
    const refused = await send(20 * 1024);
    expect(refused.status).toBeUndefined();
    expect(refused.rstCode).toBeGreaterThan(0);
    expect(t.logs.some((l) => l.includes("big-20480"))).toBe(false);
  } finally {
    client.close();
  }

  // HTTP/1.1 has the same limit.
  const res = await fetch(`${t.baseUrl}/.well-known/jwks.json`, { headers: { "x-filler": "a".repeat(20 * 1024) } });
  expect(res.status).toBe(431);
});
