import type { NodeServerRequest, NodeServerResponse } from "./node-http-types.js";
import { cors as connectCors } from "@connectrpc/connect";
import type { Logger } from "pino";

type Req = NodeServerRequest;
type Res = NodeServerResponse;

export interface CorsOptions {
  /** Origins exactly as browsers send them; "*" lets any origin call, without credentials. */
  readonly allowedOrigins: readonly string[];
  /** Request headers allowed on top of the built-in ones. */
  readonly allowedHeaders: readonly string[];
}

/**
 * What a front end needs: Connect and gRPC-Web, a session token (Authorization),
 * request ids and W3C trace context. ClientID and ClientSecret are left out on
 * purpose: an API client's secret acts for its whole tenant and belongs to back
 * ends, so a browser must not be invited to send it (CORS_ALLOWED_HEADERS can
 * still add them). Accept and friends are CORS-safelisted, listed for clients
 * that name them anyway.
 */
const builtInHeaders = [
  ...connectCors.allowedHeaders,
  "Authorization",
  "X-Request-Id",
  "traceparent",
  "tracestate",
  "Accept",
  "Accept-Language",
  "Content-Language",
];
const exposedHeaders = [...connectCors.exposedHeaders, "X-Request-Id"].join(", ");
const allowedMethods = [...new Set([...connectCors.allowedMethods, "GET", "POST", "PUT", "DELETE", "OPTIONS"])];
const allowedMethodsValue = allowedMethods.join(", ");

/**
 * createCorsHandler applies the configured origin allow-list. It answers
 * preflights itself (connect-node would answer OPTIONS with 405), refusing
 * those whose origin, method or headers are not allowed and logging why, so a
 * front-end developer chasing a CORS error finds the reason on the server. It
 * returns true when the request is fully handled.
 */
export function createCorsHandler(options: CorsOptions, logger: Logger): (req: Req, res: Res) => boolean {
  const any = options.allowedOrigins.includes("*");
  const named = new Set(options.allowedOrigins.filter((o) => o !== "*"));
  const headerNames = [...new Set([...builtInHeaders, ...options.allowedHeaders])];
  const headers = new Set(headerNames.map((h) => h.toLowerCase()));
  const allowedHeadersValue = headerNames.join(", ");
  const methods = new Set(allowedMethods);

  return (req, res) => {
    const origin = req.headers.origin;
    const isNamed = typeof origin === "string" && named.has(origin);
    const permitted = typeof origin === "string" && (isNamed || any);
    const isPreflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!isPreflight) {
      if (permitted) allowOrigin(res, origin, isNamed);
      return false;
    }

    const method = String(req.headers["access-control-request-method"]).toUpperCase();
    const requested = String(req.headers["access-control-request-headers"] ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
    const refusedHeaders = requested.filter((h) => !headers.has(h));
    const reason = !permitted ? "origin not allowed"
      : !methods.has(method) ? "method not allowed"
      : refusedHeaders.length > 0 ? "header not allowed"
      : undefined;
    res.setHeader("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (reason) {
      logger.info({
        origin: typeof origin === "string" ? origin.slice(0, 200) : null,
        reason,
        ...(reason === "method not allowed" ? { method: method.slice(0, 32) } : {}),
        ...(reason === "header not allowed" ? { headers: refusedHeaders.slice(0, 20).map((h) => h.slice(0, 64)) } : {}),
      }, "CORS preflight refused");
      res.statusCode = 403;
      res.end();
      return true;
    }
    allowOrigin(res, origin!, isNamed);
    res.setHeader("access-control-allow-methods", allowedMethodsValue);
    res.setHeader("access-control-allow-headers", allowedHeadersValue);
    res.setHeader("access-control-max-age", "7200");
    res.statusCode = 204;
    res.end();
    return true;
  };
}

// Credentials (cookies) only for origins named in the configuration: browsers refuse them with "*".
function allowOrigin(res: Res, origin: string, credentials: boolean) {
  res.setHeader("access-control-allow-origin", origin);
  if (!res.hasHeader("vary")) res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", exposedHeaders);
  if (credentials) res.setHeader("access-control-allow-credentials", "true");
}
