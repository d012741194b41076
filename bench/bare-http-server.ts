/**
 * Baseline for the HTTP/1.1 variants: node:http + ioredis doing the same Redis
 * work as the service's hot path, replying with a body of the same shape:
 * GET /auth/status (REST, snake_case) and the Connect JSON POST (camelCase).
 *   env: REDIS_URL, PORT, BARE_HMAC_KEY (base64)
 */
import http from "node:http";
import { bareLookup, bearer, type BareSession } from "./bare-lookup.js";
import { idleMs } from "./bare-schema.js";

const lookup = bareLookup(process.env.REDIS_URL!, Buffer.from(process.env.BARE_HMAC_KEY!, "base64"));
const connectPath = "/sessionstorage.v1.AuthStatusService/GetAuthStatus";

const iso = (ms: number) => new Date(ms).toISOString();

function statusBody(s: BareSession, camel: boolean): string {
  const session = {
    [camel ? "createdAt" : "created_at"]: iso(s.createdAt),
    [camel ? "lastAccessed" : "last_accessed"]: iso(s.lastAccessed),
    [camel ? "timeoutMinutes" : "timeout_minutes"]: idleMs / 60_000,
    [camel ? "remainingSeconds" : "remaining_seconds"]: Math.floor((s.expiresAt - s.lastAccessed) / 1000),
    [camel ? "expiresAt" : "expires_at"]: iso(s.expiresAt),
  };
  return JSON.stringify({ success: true, valid: true, user: s.profile, session });
}

function reply(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, camel: boolean) {
  const token = bearer(req.headers.authorization);
  if (!token) return reply(res, 401, '{"code":"unauthenticated","message":"missing bearer token"}');
  const session = await lookup(token);
  // REST answers an unknown token 401; Connect answers OK with valid false, as the service does.
  if (session) reply(res, 200, statusBody(session, camel));
  else reply(res, camel ? 200 : 401, '{"success":true,"valid":false,"message":"Session expired or invalid"}');
}

http
  .createServer((req, res) => {
    const camel = req.method === "POST" && req.url === connectPath;
    if (!camel && !(req.method === "GET" && req.url === "/auth/status")) return reply(res, 404, '{"code":"not_found"}');
    // The Connect request body ({}) is read, as the service must read it.
    req.resume();
    req.once("end", () => {
      answer(req, res, camel).catch((e: unknown) => reply(res, 503, JSON.stringify({ code: "unavailable", message: String(e) })));
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
