import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestApp, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

test("save then get over REST", async () => {
  const saved = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "usr_1" }),
  });
  expect(saved.status).toBe(200);
  const body = (await saved.json()) as Record<string, unknown>;
  expect(body.user_id).toBe("usr_1");
  const got = await fetch(`${t.baseUrl}/api/v1/session-storage/${body.id as string}`, { headers: t.clientA.headers });
  expect(got.status).toBe(200);
  expect(((await got.json()) as Record<string, unknown>).token).toBe(body.token);
});
