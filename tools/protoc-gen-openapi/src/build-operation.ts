import type { JsonObject } from "@bufbuild/protobuf";
import type { RestRoute } from "../../../src/rest/rest-routes.js";
import { commentText } from "./comment-text.js";
import type { ErrorResponses } from "./error-responses.js";
import { requestBody } from "./request-body.js";
import { requestParameters } from "./request-parameters.js";
import { responses } from "./responses.js";
import type { SchemaRegistry } from "./schema-registry.js";
import { securityOf } from "./security.js";

/** buildOperation is the OpenAPI operation of one REST route (one HTTP binding of one method). */
export function buildOperation(route: RestRoute, operationId: string, registry: SchemaRegistry, errors: ErrorResponses): JsonObject {
  const method = route.method;
  const security = securityOf(method);
  const comment = commentText(method);
  // The comment's first sentence is the summary tools list operations by.
  const summary = comment?.split(/(?<=\.)\s/)[0];
  const parameters = requestParameters(route);
  const body = requestBody(route, registry);
  return {
    tags: [method.parent.name],
    operationId,
    ...(summary !== undefined ? { summary } : {}),
    ...(comment !== undefined && comment !== summary ? { description: comment } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: responses(route, security.length > 0, registry, errors),
    security,
  };
}
