import http2 from "node:http2";
import net from "node:net";
import { expect, test } from "vitest";
import { startTestApp } from "./support/test-app.js";

// SIGTERM's work (app.close): stop accepting, let a call already in flight
// finish with its real answer, then close.

test("a call in flight when shutdown starts still gets its answer; new connections are refused", async () => {
  const t = await startTestApp();
  const body = JSON.stringify({ user_id: "in-flight-user" });
  const socket = net.connect(t.port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let response = "";
  socket.on("data", (d: Buffer) => (response += d.toString()));
  // Headers and half the body now: the request is in flight.
  socket.write(
    `POST /api/v1/session-storage HTTP/1.1\r\nHost: localhost\r\nClientID: ${t.clientA.id}\r\nClientSecret: ${t.clientA.secret}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`,
  );
  await new Promise((r) => setTimeout(r, 100));

  let closed = false;
  const closing = t.app.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 100));
  expect(closed).toBe(false);

  // No new connections once shutdown has begun.
  const refused = await new Promise<boolean>((resolve) => {
    const probe = net.connect(t.port, "127.0.0.1");
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", () => resolve(true));
  });
  expect(refused).toBe(true);

  socket.write(body.slice(5));
  await closing;
  // The answer was written before close resolved; give the client a moment to read it.
  for (let i = 0; i < 50 && !response.includes("in-flight-user"); i++) await new Promise((r) => setTimeout(r, 20));
  expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
  expect(response.toLowerCase()).toContain("connection: close");
  expect(response).toContain('"user_id":"in-flight-user"');
  socket.destroy();
  t.redis.disconnect();
}, 30_000);

test("over HTTP/2, a stream in flight at shutdown finishes; the session is told to go away", async () => {
  const t = await startTestApp();
  const session = http2.connect(t.baseUrl);
  let goaway = false;
  session.on("goaway", () => (goaway = true));
  session.on("error", () => undefined);
  const body = JSON.stringify({ user_id: "h2-in-flight-user" });
  const stream = session.request({
    ":method": "POST",
    ":path": "/api/v1/session-storage",
    "content-type": "application/json",
    clientid: t.clientA.id,
    clientsecret: t.clientA.secret,
  });
  stream.write(body.slice(0, 5));
  await new Promise((r) => setTimeout(r, 100));

  const closing = t.app.close();
  await new Promise((r) => setTimeout(r, 100));
  let status = 0;
  let text = "";
  stream.on("response", (headers) => (status = Number(headers[":status"])));
  stream.on("data", (d: Buffer) => (text += d.toString()));
  const ended = new Promise((r) => stream.on("end", r));
  stream.end(body.slice(5));
  await ended;
  await closing;
  expect(goaway).toBe(true);
  expect(status).toBe(200);
  expect(text).toContain('"user_id":"h2-in-flight-user"');
  session.destroy();
  t.redis.disconnect();
}, 30_000);
