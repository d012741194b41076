import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestApp, type TestApp } from "../../../test/support/test-app.js";
import { createSessionHolderClient, createSessionStorageClient, defaultTimeoutMs } from "../src/index.js";
import { wireRecorder } from "./wire-recorder.js";

// The package against the real service, over both transports.

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe.each(["grpc", "connect"] as const)("over %s", (transport) => {
  const client = (extra: { clientSecret?: string; timeoutMs?: number } = {}) => {
    const recorder = wireRecorder();
    const clients = createSessionStorageClient({
      baseUrl: t.baseUrl,
      clientId: t.clientA.id,
      clientSecret: extra.clientSecret ?? t.clientA.secret,
      transport,
      timeoutMs: extra.timeoutMs,
      interceptors: [recorder.interceptor],
    });
    return { ...clients, calls: recorder.calls };
  };

  test("sends the API client's credentials and returns typed results", async () => {
    const c = client();
    const userId = `pkg-${transport}-user`;
    const { session } = await c.sessionStorage.saveSession({ userId });
    expect(session?.userId).toBe(userId);
    expect(session?.token).toMatch(/\S{32,}/); // minted, returned once
    const validity = await c.sessionStorage.getSessionValidity({ userId });
    expect(validity.isValid).toBe(true);
    expect(validity.secondsRemaining).toBeGreaterThan(0);
    const listed = await c.sessions.listSessions({ userId, pageSize: 10 });
    expect(listed.data.map((s) => s.id)).toContain(session?.id);
    expect(c.calls[0]?.requestHeader.get("clientid")).toBe(t.clientA.id);
    expect(c.calls[0]?.requestHeader.get("clientsecret")).toBe(t.clientA.secret);
  });

  test("a wrong secret is refused by the service", async () => {
    const c = client({ clientSecret: "not-the-secret-of-this-client" });
    const error = await c.sessionStorage.saveSession({ userId: "nobody" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });

  test("each call gets its own request id, and the service returns it", async () => {
    const c = client();
    await c.jwks.getJwks({});
    await c.jwks.getJwks({});
    const [first, second] = c.calls;
    const sent = first?.requestHeader.get("x-request-id");
    expect(sent).toMatch(uuid);
    expect(first?.responseHeader?.get("x-request-id")).toBe(sent);
    expect(second?.requestHeader.get("x-request-id")).toMatch(uuid);
    expect(second?.requestHeader.get("x-request-id")).not.toBe(sent);
  });

  test("a request id given in the call's headers is kept", async () => {
    const c = client();
    let returned: string | null = null;
    const { keys } = await c.jwks.getJwks({}, { headers: { "x-request-id": "caller-chosen-id-42" }, onHeader: (h) => (returned = h.get("x-request-id")) });
    expect(keys[0]?.kty).toBe("EC");
    expect(returned).toBe("caller-chosen-id-42");
  });

  test("every call carries a deadline: the default, or the one given", async () => {
    const c = client();
    const d = client({ timeoutMs: 1500 });
    await c.jwks.getJwks({});
    await d.jwks.getJwks({});
    await d.jwks.getJwks({}, { timeoutMs: 700 });
    const deadlines = [c, d, d].map((x, i) => deadlineMs(x.calls[i === 2 ? 1 : 0]!.requestHeader));
    // Sent as the time left, so a little under what was set.
    expect(deadlines[0]).toBeGreaterThan(defaultTimeoutMs - 1000);
    expect(deadlines[0]).toBeLessThanOrEqual(defaultTimeoutMs);
    expect(deadlines[1]).toBeGreaterThan(500);
    expect(deadlines[1]).toBeLessThanOrEqual(1500);
    expect(deadlines[2]).toBeLessThanOrEqual(700);
  });

  test("a session holder's client authenticates with its Bearer token alone", async () => {
    const { session } = await client().sessionStorage.saveSession({ userId: `holder-${transport}` });
    const recorder = wireRecorder();
    const holder = createSessionHolderClient({ baseUrl: t.baseUrl, token: session!.token!, transport, interceptors: [recorder.interceptor] });
    const status = await holder.authStatus.getAuthStatus({});
    expect(status.valid).toBe(true);
    expect(status.session?.remainingSeconds).toBeGreaterThan(0);
    const { jwt } = await holder.clientSessions.createSessionToken({ sessionId: session!.id });
    expect(jwt.split(".")).toHaveLength(3);
    expect(recorder.calls[0]?.requestHeader.get("clientsecret")).toBeNull();
  });

  test("signs a user out everywhere and watches the events it caused", async () => {
    const userId = `signed-out-${transport}`;
    const { session } = await client().sessionStorage.saveSession({ userId });
    const abort = new AbortController();
    const watched: string[] = [];
    // From now on, this user's revocations only.
    const watching = (async () => {
      for await (const res of client().sessionEvents.watchSessionEvents({ userId, types: ["revoked"] }, { signal: abort.signal, timeoutMs: 10_000 })) {
        if (res.event) watched.push(`${res.event.type} ${res.event.sessionId}`);
        if (watched.length === 1) abort.abort();
      }
    })().catch((e: unknown) => {
      if (!(e instanceof ConnectError && e.code === Code.Canceled)) throw e;
    });
    await new Promise((r) => setTimeout(r, 300)); // the stream is open
    const { revokedCount, sessionIds } = await client().signOut.revokeUserSessions({ userId, reason: "password changed" });
    expect({ revokedCount, sessionIds }).toEqual({ revokedCount: 1, sessionIds: [session!.id] });
    await watching;
    expect(watched).toEqual([`revoked ${session!.id}`]);
    const holder = createSessionHolderClient({ baseUrl: t.baseUrl, token: session!.token!, transport });
    expect((await holder.authStatus.getAuthStatus({})).valid).toBe(false);
  });

  function deadlineMs(header: Headers): number {
    if (transport === "connect") return Number(header.get("connect-timeout-ms"));
    const m = /^(\d+)([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
    const units: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
    const unit = units[m![2]!]!;
    return Number(m![1]) * unit;
  }
});
