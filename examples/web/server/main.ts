import { readFileSync } from "node:fs";
import path from "node:path";
import { createSessionStorageClient } from "@secure-session-storage/client";
import { bundlePage } from "../bundle-page.ts";
import { createExampleServer } from "./create-example-server.ts";

// npm start -w examples/web: bundles the page, serves it on PAGE_PORT (5173),
// mints a session for it and prints the link to open. The service must list
// this origin in CORS_ALLOWED_ORIGINS (and run with COOKIE_SECURE=false on http).

const repo = path.join(import.meta.dirname, "../../..");
const serviceUrl = process.env.SERVICE_URL ?? "http://127.0.0.1:8080";
const port = Number(process.env.PAGE_PORT ?? 5173);
const [clientId, clientSecret] = apiClient();

const root = path.join(import.meta.dirname, "../dist");
await bundlePage(root);
createExampleServer({ root, serviceUrl, clientId, clientSecret }).listen(port, "127.0.0.1", async () => {
  console.log(`page origin: http://127.0.0.1:${port} (add it to CORS_ALLOWED_ORIGINS)`);
  const service = createSessionStorageClient({ baseUrl: serviceUrl, clientId, clientSecret, transport: "connect" });
  try {
    const { session } = await service.sessionStorage.saveSession({ userId: "web-example-user" });
    console.log(`open: http://127.0.0.1:${port}/#token=${session?.token}`);
  } catch (e) {
    console.error(`could not create a session at ${serviceUrl} (is the service running?): ${String(e)}`);
  }
});

// CLIENT_ID/CLIENT_SECRET, or the first API client a local run generated.
function apiClient(): [string, string] {
  if (process.env.CLIENT_ID && process.env.CLIENT_SECRET) return [process.env.CLIENT_ID, process.env.CLIENT_SECRET];
  const secrets = JSON.parse(readFileSync(path.join(repo, ".data/secrets.json"), "utf8")) as { API_CLIENTS: string };
  const first = secrets.API_CLIENTS.split(",")[0]!;
  const colon = first.indexOf(":");
  return [first.slice(0, colon), first.slice(colon + 1)];
}
