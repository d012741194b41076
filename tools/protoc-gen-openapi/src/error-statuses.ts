import type { RestRoute } from "../../../src/rest/rest-routes.js";

/** Why each listed error status is sent (src/rest/http-status.ts maps the gRPC codes). */
export const errorStatusDescriptions: Record<string, string> = {
  400: "The request is invalid: a bad or unknown parameter, a bad body, or a failed precondition (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE).",
  401: "Credentials are missing or not valid (UNAUTHENTICATED).",
  404: "No such session, or not one these credentials may see (NOT_FOUND).",
  413: "The request body is larger than MAX_BODY_BYTES.",
  500: "A server fault (INTERNAL, UNKNOWN, DATA_LOSS).",
  503: "The store is unavailable; retry later (UNAVAILABLE).",
  default: "Any other error, by the standard gRPC code to HTTP status table (403, 409, 429, 504, …).",
};

/**
 * errorStatuses lists the error statuses an operation documents. Which codes
 * a method can fail with is not in the proto, so this is the service's common
 * set, narrowed by what the route says: only credentialed operations answer
 * 401 and 404, only operations with a body answer 413. "default" covers the rest.
 */
export function errorStatuses(route: RestRoute, secured: boolean): string[] {
  return [
    "400",
    ...(secured ? ["401", "404"] : []),
    ...(route.body !== "" ? ["413"] : []),
    "500",
    "503",
    "default",
  ];
}
