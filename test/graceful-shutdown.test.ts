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
