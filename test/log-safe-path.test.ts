import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestApp, type TestApp } from "./support/test-app.js";

// A caller may paste a token anywhere in a URL path. The access log keeps
// only documented literal segments, session-id-shaped segments and a few
// short lower-case words; every other segment is written {redacted}.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

type LogLine = Record<string, unknown>;
let n = 0;

/** Requests `path` over HTTP/1.1 and returns the path its access line holds. */
async function loggedPath(path: string, init: RequestInit = {}): Promise<string> {
  const requestId = `log-path-${++n}`;
  const res = await fetch(`${t.baseUrl}${path}`, { ...init, headers: { ...t.clientA.headers, "x-request-id": requestId, ...init.headers } });
  await res.arrayBuffer();
  for (let i = 0; i < 50; i++) {
    const line = t.logs.map((l) => JSON.parse(l) as LogLine).find((l) => l.requestId === requestId && l.msg === "http request");
    if (line) return line.path as string;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access line for ${requestId}`);
}

// Tokens as callers really hold them: JWTs, base64 with "/", "+" and "=",
// dotted opaque tokens; each piece between slashes shorter than 32
// characters, which the earlier rule let through.
const tokens = [
  "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.Qm9w+ZXJ/YXRpb25z==",
  "Zm9vQmFy/K2Jhei9xdXV4+dGV4dA==/c2VjcmV0VmFs/dWUxMjM0NQ",
  "tok.Xq7/Rr2+Ww9.Pp0=/Ll1.Kk8/Jj3+Hh6=/Gg5.Ff4",
  "s3cr3t/T0k3n/w1th/many/sh0rt/p1eces/in/it/ab",
  // Only lower-case words: safe one by one, too many together.
  "wxyz/qrst/mnop/ghij/klmn/uvwq/rstu/vwxy/zzyx",
];
const pieces = (token: string) => token.split(/[/+=.]/).filter((p) => p.length >= 3);

test.each(tokens)("a token pasted into a path never reaches the log: %s", async (token) => {
  const paths = [
    `/api/v1/session-storage/${token}`,
    `/v1/client/sessions/${token}/touch`,
    `/auth/status/${token}`,
    `/${token}`,
    `/api/v1/session-storage/${encodeURIComponent(token)}`,
  ];
  for (const path of paths) {
    const logged = await loggedPath(path, path.startsWith("/v1/") ? { method: "POST" } : {});
    expect(logged).toContain("{redacted}");
    for (const piece of pieces(token)) expect(logged, `${path} → ${logged}`).not.toContain(piece);
  }
  const all = t.logs.join("\n");
  expect(all).not.toContain(token);
});

test("documented paths, session ids and short words are logged as they are; the query never", async () => {
  const sid = "usr_9a2f31.1a2b3c4d.5e6f7a8b";
  expect(await loggedPath(`/api/v1/session-storage/${sid}`)).toBe(`/api/v1/session-storage/${sid}`);
  expect(await loggedPath(`/api/v1/session-storage/current?user_id=usr_9a2f31`)).toBe("/api/v1/session-storage/current");
  expect(await loggedPath(`/v1/client/sessions/${sid}/tokens/my-template`, { method: "POST" })).toBe(`/v1/client/sessions/${sid}/tokens/my-template`);
  expect(await loggedPath("/.well-known/jwks.json")).toBe("/.well-known/jwks.json");
  expect(await loggedPath("/api/session/validateSession", { method: "POST" })).toBe("/api/session/validateSession");
  expect(await loggedPath("/api/v1/nowhere?token=secret")).toBe("/api/v1/nowhere");
  // A session id whose user part is not a user id is not a session id.
  expect(await loggedPath("/api/v1/session-storage/a%2Fb.1a2b3c4d.5e6f7a8b")).toBe("/api/v1/session-storage/{redacted}");
});

test("a token in a segment is replaced segment by segment, keeping the route readable", async () => {
  expect(await loggedPath("/v1/client/sessions/Zm9vQmFy+K2Jh/ei9xdXV4=/touch", { method: "POST" }))
    .toBe("/v1/client/sessions/{redacted}/{redacted}/touch");
});
