import { mkdirSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import type http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createSessionStorageClient } from "@secure-session-storage/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startTestApp, type TestApp } from "../../../test/support/test-app.js";
import { bundlePage } from "../bundle-page.ts";
import { createExampleServer } from "../server/create-example-server.ts";
import { launchChromium } from "./launch-chromium.ts";

// The browser example in real headless Chromium: the page is served from its
// own origin (another port), calls the service with Connect-Web and the cookie
// API with CORS, and never holds API client credentials.

const screenshot = path.resolve(import.meta.dirname, "../../../test-results/web-example.png");
let t: TestApp;
let pageServer: http.Server;
let pageOrigin: string;
let bundleDir: string;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  const port = await freePort();
  pageOrigin = `http://127.0.0.1:${port}`;
  t = await startTestApp({ CORS_ALLOWED_ORIGINS: pageOrigin, COOKIE_SECURE: "false" });
  bundleDir = mkdtempSync(path.join(os.tmpdir(), "sss-web-example-"));
  await bundlePage(bundleDir);
  pageServer = createExampleServer({ root: bundleDir, serviceUrl: t.baseUrl, clientId: t.clientA.id, clientSecret: t.clientA.secret });
  await new Promise<void>((resolve) => pageServer.listen(port, "127.0.0.1", resolve));
  chromium = await launchChromium();
}, 40_000);

afterAll(async () => {
  await chromium?.close();
  // (A setup that failed before the server was made must not leave this waiting.)
  if (pageServer) await new Promise((resolve) => pageServer.close(resolve));
  await t?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

test("the page shows, touches, ends a session, fetches a JWT and uses the cookie API", { timeout: 60_000 }, async () => {
  // The session the page is handed: minted server-side with the client package.
  const service = createSessionStorageClient({ baseUrl: t.baseUrl, clientId: t.clientA.id, clientSecret: t.clientA.secret, transport: "connect" });
  const { session } = await service.sessionStorage.saveSession({ userId: "browser-user" });

  const page = await chromium.context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const sentToService: Record<string, string>[] = [];
  page.on("request", (r) => {
    if (r.url().startsWith(t.baseUrl)) sentToService.push(r.headers());
  });

  await page.goto(`${pageOrigin}/#token=${session!.token}`);
  await page.waitForSelector("body[data-ready=true]");
  await expectText(page, "#status", /^valid · \d+ s left$/);
  await expectText(page, "#session-id", session!.id);
  expect(new URL(page.url()).hash).toBe(""); // the token left the address bar
  await expectText(page, "#request-id", /^[0-9a-f-]{36}$/);

  await page.click("#touch");
  await expectText(page, "#touch-result", /^touched · active · last active \d{4}-/);

  await page.click("#fetch-jwt");
  await expectText(page, "#jwt", /^[\w-]+\.[\w-]+\.[\w-]+$/);

  await page.click("#end");
  await expectText(page, "#end-result", "ended · ended");
  await expectText(page, "#status", /^invalid · Session expired or invalid/);

  await page.click("#sign-in");
  await expectText(page, "#cookie", "200 · Signed in · user web-example-user");
  // HttpOnly: the page's script cannot read the cookie it is sending.
  expect(await page.evaluate(() => document.cookie)).not.toContain("sessionCookie");
  await page.click("#validate-cookie");
  await expectText(page, "#cookie", "200 · Session is not expired · user web-example-user");
  await page.click("#delete-cookie");
  await expectText(page, "#cookie", "200 · Session deleted.");
  await page.click("#validate-cookie");
  await expectText(page, "#cookie", /^400 · Invalid request: session cookie is required\.$/);

  expect(errors).toEqual([]);
  expect(sentToService.length).toBeGreaterThan(0);
  for (const headers of sentToService) {
    expect(headers).not.toHaveProperty("clientid");
    expect(headers).not.toHaveProperty("clientsecret");
  }

  mkdirSync(path.dirname(screenshot), { recursive: true });
  rmSync(screenshot, { force: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  const png = readFileSync(screenshot);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.length).toBeGreaterThan(10_000);
  expect(png.readUInt32BE(16)).toBe(1000); // IHDR width: the viewport
  expect(png.readUInt32BE(20)).toBeGreaterThan(400);
});

async function expectText(page: Page, selector: string, expected: string | RegExp) {
  await page.waitForFunction(
    ([s, source, flags]) => {
      const text = document.querySelector(s)?.textContent ?? "";
      return flags === null ? text === source : new RegExp(source, flags).test(text);
    },
    [selector, typeof expected === "string" ? expected : expected.source, typeof expected === "string" ? null : expected.flags] as const,
  ).catch(async () => {
    throw new Error(`${selector} shows ${JSON.stringify(await page.textContent(selector))}, expected ${String(expected)}`);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
