import type { ServerResponse } from "node:http";
import { openApiDocument } from "../../gen/openapi/openapi_document.js";
import { acceptRequestId } from "../observability/request-id.js";
import type { NodeServerRequest, NodeServerResponse } from "../transport/node-http-types.js";

/**
 * createOpenApiRoute serves the OpenAPI document generated from proto/
 * (gen/openapi/) at GET /openapi.json. It answers true when it handled the
 * request; anything else is left to the REST transcoder.
 */
export function createOpenApiRoute(): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  // Serialized once: the document is fixed for the life of the process.
  const body = Buffer.from(JSON.stringify(openApiDocument));
  return (req, res) => {
    const url = req.url ?? "";
    const query = url.indexOf("?");
    if ((query < 0 ? url : url.slice(0, query)) !== "/openapi.json" || (req.method !== "GET" && req.method !== "HEAD")) return false;
    const incoming = req.headers["x-request-id"];
    res.statusCode = 200;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", body.length);
    res.setHeader("x-request-id", acceptRequestId(Array.isArray(incoming) ? incoming[0] : incoming));
    (res as ServerResponse).end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
