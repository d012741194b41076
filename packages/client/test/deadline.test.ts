import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { startOwnRedis, type OwnRedis } from "../../../test/support/own-redis.js";
import { startTestApp, type TestApp } from "../../../test/support/test-app.js";
import { createSessionStorageClient } from "../src/index.js";
import { wireRecorder } from "./wire-recorder.js";

// The deadline reaches the service: with its Redis frozen, a call ends at the
// client's deadline, not at the service's 2 s Redis timeout (UNAVAILABLE), and
// the service itself gives up on it then (its call log says deadline_exceeded).

let redis: OwnRedis;
let t: TestApp;
beforeAll(async () => {
  redis = await startOwnRedis();
  t = await startTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  redis.signal("SIGCONT");
  await t.close();
  await redis.stop();
});

test.each(["grpc", "connect"] as const)("over %s, a call whose store hangs ends at its deadline", async (transport) => {
  const recorder = wireRecorder();
  const client = createSessionStorageClient({
    baseUrl: t.baseUrl,
    clientId: t.clientA.id,
    clientSecret: t.clientA.secret,
    transport,
    timeoutMs: 300,
    interceptors: [recorder.interceptor],
  });
  // Connected and warm first (a cold connection and script load may take longer than 300 ms).
  await client.sessionStorage.saveSession({ userId: "before-freeze" }, { timeoutMs: 10_000 });
  redis.signal("SIGSTOP");
  try {
    const started = performance.now();
    const error = await client.sessionStorage.saveSession({ userId: "during-freeze" }).catch((e: unknown) => ConnectError.from(e));
    const elapsed = performance.now() - started;
    expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    const requestId = recorder.calls[1]!.requestHeader.get("x-request-id")!;
    await vi.waitFor(() => {
      const line = t.logs.map((l) => JSON.parse(l) as { requestId?: string; code?: string }).find((l) => l.requestId === requestId);
      expect(line?.code).toBe("deadline_exceeded");
    }, { timeout: 1500 });
  } finally {
    redis.signal("SIGCONT");
  }
});
