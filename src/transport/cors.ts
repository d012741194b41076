import type { NodeServerRequest, NodeServerResponse } from "./node-http-types.js";
import { cors as connectCors } from "@connectrpc/connect";

type Req = NodeServerRequest;
type Res = NodeServerResponse;

// Our credential and tracing headers on top of what Connect and gRPC-Web need.
const allowedHeaders = [...connectCors.allowedHeaders, "Authorization", "ClientID", "ClientSecret", "X-Request-Id"];
const exposedHeaders = [...connectCors.exposedHeaders, "X-Request-Id"];
const allowedMethods = [...new Set([...connectCors.allowedMethods, "GET", "POST", "PUT", "DELETE", "OPTIONS"])];

/**
 * createCorsHandler applies the configured origin allow-list. It answers
 * preflights itself (connect-node would answer OPTIONS with 405) and returns
 * true when the request is fully handled.
 */
export function createCorsHandler(allowedOrigins: readonly string[]): (req: Req, res: Res) => boolean {
  const any = allowedOrigins.includes("*");
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    const permitted = typeof origin === "string" && (any || allowed.has(origin));
    if (permitted) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-expose-headers", exposedHeaders.join(", "));
      if (!any) res.setHeader("access-control-allow-credentials", "true");
    }
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      if (permitted) {
        res.setHeader("access-control-allow-methods", allowedMethods.join(", "));
        res.setHeader("access-control-allow-headers", allowedHeaders.join(", "));
        res.setHeader("access-control-max-age", "7200");
      }
      res.statusCode = permitted ? 204 : 403;
      res.end();
      return true;
    }
    return false;
  };
}
