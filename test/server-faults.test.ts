/**
 * Server faults: the service's own Redis dies. Every face answers 503 with its
 * documented generic message (004), its documented body shape (002) or the
 * standard error body (000, 001, 003), and never a stack trace or driver text.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// What a fault must not leak: driver messages, addresses, stack frames.
const LEAK = /ECONNREFUSED|Connection is closed|max retries|MaxRetries|ioredis|127\.0\.0\.1|\bat .+\.(ts|js)|Error:/i;

interface Reply {
  readonly status: number;
  readonly requestId: string | null;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

let redis: ChildProcess | undefined;
let t: TestApp;
const dir = mkdtempSync(path.join(os.tmpdir(), "sss-faults-"));
/** The replies while Redis is down, by name: sent at once, since each waits for the client's retry. */
const down = new Map<string, Reply>();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function send(method: string, route: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const res = await fetch(`${t.baseUrl}${route}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get("x-request-id"), text, body: JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  const port = await freePort();
  redis = await startRedisServer(dir, port, false);
  t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}`, COOKIE_SECURE: "false" });

  // A cookie and a Bearer token that were valid before Redis died.
  const created = await fetch(`${t.baseUrl}/api/session/createSession`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ userID: "fault-user" }),
  });
  expect(created.status).toBe(200);
  const cookie = created.headers.getSetCookie()[0]!.split(";")[0]!;
  const saved = await send("POST", "/api/v1/session-storage", t.clientA.headers, { user_id: "fault-user" });
  expect(saved.status).toBe(200);
  const bearer = saved.body.token as string;
  const id = encodeURIComponent(saved.body.id as string);

  redis.kill("SIGKILL");
  await new Promise((resolve) => redis!.once("exit", resolve));

  const A = t.clientA.headers;
  const calls: Record<string, () => Promise<Reply>> = {
    createSession: () => send("POST", "/api/session/createSession", A, { userID: "fault-user" }),
    validateSession: () => send("POST", "/api/session/validateSession", { cookie }),
    deleteSession: () => send("POST", "/api/session/deleteSession", { cookie }),
    authStatus: () => send("GET", "/auth/status", { authorization: `Bearer ${bearer}`, "x-request-id": "fault-req-1" }),
    list000: () => send("GET", "/api/v1/session-storage", A),
    get000: () => send("GET", `/api/v1/session-storage/${id}`, A),
    validity000: () => send("GET", "/api/v1/session-storage/validity?user_id=fault-user", A),
    list001: () => send("GET", "/session-storage/sessions", A),
    delete001: () => send("DELETE", `/session-storage/sessions/${id}`, A),
    get003: () => send("GET", `/v1/client/sessions/${id}`, A),
    badInput004: () => send("POST", "/api/session/createSession", A, { userID: "" }),
  };
  const replies = await Promise.all(Object.entries(calls).map(async ([name, call]) => [name, await call()] as const));
  for (const [name, reply] of replies) down.set(name, reply);
}, 60_000);

afterAll(async () => {
  await t?.close();
  redis?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const reply = (name: string): Reply => down.get(name)!;

describe("with Redis down", () => {
  it("no reply carries a stack trace or the driver's words", () => {
    for (const [name, r] of down) expect(r.text, name).not.toMatch(LEAK);
  });

  it("004 createSession → 503 {message: 'There was an error with the request.'}", () => {
    expect(reply("createSession").status).toBe(503);
    expect(reply("createSession").body).toEqual({ message: "There was an error with the request." });
  });

  it("004 validateSession with a cookie → 503 {message: 'There was an error validating the session.'}", () => {
    expect(reply("validateSession").status).toBe(503);
    expect(reply("validateSession").body).toEqual({ message: "There was an error validating the session." });
  });

  it("004 deleteSession with a cookie → 503 {message: 'There was an error with the request.'}", () => {
    expect(reply("deleteSession").status).toBe(503);
    expect(reply("deleteSession").body).toEqual({ message: "There was an error with the request." });
  });

  it("002 /auth/status with a Bearer → 503 {success: false, valid: false, error: '… [request_id: <x-request-id>]'}", () => {
    const r = reply("authStatus");
    expect(r.status).toBe(503);
    expect(r.requestId).toBe("fault-req-1");
    expect(Object.keys(r.body).sort()).toEqual(["error", "success", "valid"]);
    expect(r.body.success).toBe(false);
    expect(r.body.valid).toBe(false);
    expect(r.body.error).toMatch(/^\S.* \[request_id: fault-req-1\]$/);
  });

  it("000, 001 and 003 → 503 {code: 'unavailable', message, request_id}", () => {
    for (const name of ["list000", "get000", "validity000", "list001", "delete001", "get003"]) {
      const r = reply(name);
      expect(r.status, name).toBe(503);
      expect(r.body.code, name).toBe("unavailable");
      expect(typeof r.body.message, name).toBe("string");
      expect(r.body.request_id, name).toBe(r.requestId);
    }
  });

  it("bad input is still a 400 with its documented message, not a 5xx", () => {
    expect(reply("badInput004").status).toBe(400);
    expect(reply("badInput004").body).toEqual({ message: "Invalid request: user ID is required in the request body." });
  });

  it("the fault is logged once, as a warning with its reason; each failed call only in its access line", () => {
    const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const outage = lines.filter((l) => typeof l.msg === "string" && l.msg.startsWith("redis unreachable"));
    expect(outage).toHaveLength(1);
    expect(outage[0]!.level).toBe(40);
    expect(outage[0]!.reason).toBeTruthy();
    expect(lines.filter((l) => l.code === "unavailable" && l.level === 50)).toEqual([]);
    expect(lines.filter((l) => l.msg === "http request" && l.status === 503 && l.level === 30).length).toBeGreaterThanOrEqual(10);
  });
});
