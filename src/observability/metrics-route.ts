import type { NodeServerRequest, NodeServerResponse } from "../transport/node-http-types.js";
import type { Metrics } from "./metrics.js";

/**
 * createMetricsRoute answers GET /metrics with the Prometheus text format and
 * returns false for every other request.
 */
export function createMetricsRoute(metrics: Metrics): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  return (req, res) => {
    if (req.url !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) return false;
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
        if (req.method === "HEAD") res.end();
        else res.end(text);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("metrics unavailable\n");
      },
    );
    return true;
  };
}
