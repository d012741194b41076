import http2 from "node:http2";
import net from "node:net";
import { expect, test } from "vitest";
import { startTestApp } from "./support/test-app.js";

// Connections that stop talking must not hold the server's sockets forever,
// and shutdown must be able to close HTTP/1.1 connections it did not accept itself.

const closedWithin = (socket: net.Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

test("an HTTP/1.1 request whose headers never end is answered 408 and closed", async () => {
  const t = await startTestApp({ HTTP_REQUEST_TIMEOUT_MS: "1000" });
  try {
    const socket = net.connect(t.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    let response = "";
    socket.on("data", (d: Buffer) => (response += d.toString()));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
    expect(await closedWithin(socket, 5000)).toBe(true);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
  } finally {
    await t.close();
  }
}, 20_000);

test("close() ends an idle keep-alive HTTP/1.1 connection at once", async () => {
  const t = await startTestApp();
  const socket = net.connect(t.port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let response = "";
  socket.on("data", (d: Buffer) => (response += d.toString()));
  socket.write("GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  for (let i = 0; i < 100 && !response.includes('"keys"'); i++) await new Promise((r) => setTimeout(r, 20));
  expect(response).toMatch(/^HTTP\/1\.1 200 /);
  expect(socket.destroyed).toBe(false);

  await t.close();
  // Node's keep-alive timeout (5 s) would close it eventually; shutdown must not wait for that.
  expect(await closedWithin(socket, 1000)).toBe(true);
}, 20_000);

test("an idle HTTP/2 session is closed, pinging or not; one with an open stream is kept", async () => {
  const t = await startTestApp({ HTTP2_IDLE_TIMEOUT_MS: "500" });
  let pinger: NodeJS.Timeout | undefined;
  try {
    const idle = http2.connect(t.baseUrl);
    const idleClosed = new Promise<void>((resolve) => idle.once("close", resolve));
    const req = idle.request({ ":path": "/.well-known/jwks.json" });
    req.resume();
    await new Promise((resolve) => req.once("end", resolve));

    // A gRPC health Watch stays open with nothing to send while the status does not change.
    const busy = http2.connect(t.baseUrl);
    let busyClosed = false;
    const busyClosing = new Promise<void>((resolve) => busy.once("close", resolve)).then(() => (busyClosed = true));
    const watch = busy.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let messages = 0;
    watch.on("data", () => messages++);
    watch.end(Buffer.alloc(5)); // one empty HealthCheckRequest frame

    // PINGs are no activity: a session that only pings is idle all the same.
    const pinging = http2.connect(t.baseUrl);
    const pingingClosed = new Promise<void>((resolve) => pinging.once("close", resolve));
    pinging.on("error", () => undefined);
    pinger = setInterval(() => !pinging.closed && !pinging.destroyed && pinging.ping(() => undefined), 100);

    const closed = await Promise.race([idleClosed.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    expect(closed).toBe(true);
    expect(await Promise.race([pingingClosed.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))])).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(messages).toBeGreaterThan(0);
    expect(busyClosed).toBe(false);
    // Once its stream ends, that session is idle too.
    watch.close();
    expect(await Promise.race([busyClosing, new Promise((r) => setTimeout(() => r(false), 5000))])).toBe(true);
  } finally {
    clearInterval(pinger);
    await t.close();
  }
}, 20_000);
