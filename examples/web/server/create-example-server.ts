import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { createSessionStorageClient } from "@secure-session-storage/client";

export interface ExampleServerOptions {
  /** The bundled page (bundlePage's outdir). */
  readonly root: string;
  /** The session service, as the browser reaches it. */
  readonly serviceUrl: string;
  /** This site's API client: used here, server-side, and never sent to the browser. */
  readonly clientId: string;
  readonly clientSecret: string;
}

const files: Record<string, { name: string; type: string }> = {
  "/": { name: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { name: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.js.map": { name: "app.js.map", type: "application/json" },
};

/**
 * createExampleServer is the web site the page belongs to, on its own origin:
 * it serves the bundle and config.json, and is the page's back end for the
 * cookie API (POST /session creates a cookie session with this site's API
 * client and relays the service's Set-Cookie to the browser).
 */
export function createExampleServer(options: ExampleServerOptions): http.Server {
  const service = createSessionStorageClient({ ...options, baseUrl: options.serviceUrl, transport: "connect" });
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://page");
    const reply = (status: number, type: string, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) =>
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers }).end(body);
    const json = (status: number, body: unknown, headers?: http.OutgoingHttpHeaders) => reply(status, "application/json", JSON.stringify(body), headers);

    if (req.method === "GET" && url.pathname === "/config.json") return json(200, { serviceUrl: options.serviceUrl });
    if (req.method === "POST" && url.pathname === "/session") {
      // A real site would sign the user in first; the example signs in one demo user.
      let setCookie: string[] = [];
      service.cookieSessions
        .createCookieSession({ userId: "web-example-user", email: "demo@example.com", role: "Demo" }, { onHeader: (h) => (setCookie = h.getSetCookie()) })
        .then((created) => json(200, { message: "Signed in", data: { userId: created.text?.userId } }, { "set-cookie": setCookie }))
        .catch((e: unknown) => json(502, { message: `could not create a session: ${String(e)}` }));
      return;
    }
    const file = req.method === "GET" ? files[url.pathname] : undefined;
    if (!file) return json(404, { message: "not found" });
    readFile(path.join(options.root, file.name)).then(
      (body) => reply(200, file.type, body),
      () => json(404, { message: `${file.name} is not built: run npm run build -w examples/web` }),
    );
  });
}
