import type { JsonObject } from "@bufbuild/protobuf";
import type { RestRoute } from "../../../src/rest/rest-routes.js";
import { commentText, withDescription } from "./comment-text.js";
import type { ErrorResponses } from "./error-responses.js";
import { errorStatuses } from "./error-statuses.js";
import { requestIdHeader as headers } from "./request-id-header.js";
import type { Rendering, SchemaRegistry } from "./schema-registry.js";

const json = (schema: JsonObject) => ({ "application/json": { schema } });

/**
 * responses describes a route's replies as src/rest/rest-handler.ts sends
 * them: the success status (success_status) with the rendered message
 * (response_body, always_present) or no body (empty_body); for
 * unauthorized_unless, the same message with the flag true (success) and
 * false (401); and the error body of the service's error_body style.
 */
export function responses(route: RestRoute, secured: boolean, registry: SchemaRegistry, errors: ErrorResponses): JsonObject {
  const rendering: Rendering = { useProtoFieldNames: route.useProtoFieldNames, direction: "response" };
  const rendered = route.responseField?.message ?? route.method.output;
  const description = commentText(rendered) ?? "Success.";
  const result: JsonObject = {};

  if (route.emptyBody) {
    result[route.successStatus] = { description: "Success; no body.", headers };
  } else {
    // always_present changes this one rendering (null instead of absent), so it is inline.
    const schema = route.alwaysPresent.length > 0
      ? withDescription(rendered, registry.objectSchema(rendered, rendering, { nullable: route.alwaysPresent }))
      : registry.messageSchema(rendered, rendering);
    const flag = route.unauthorizedUnless;
    if (!flag) {
      result[route.successStatus] = { description, headers, content: json(schema) };
    } else {
      if (route.responseField) throw new Error(`${route.pattern}: unauthorized_unless with response_body is not described`);
      const key = route.useProtoFieldNames ? flag.name : flag.jsonName;
      const withFlag = (value: boolean) => ({ allOf: [schema, { properties: { [key]: { const: value } }, required: [key] }] });
      result[route.successStatus] = { description: `${description} Sent when ${key} is true.`, headers, content: json(withFlag(true)) };
      result[401] = {
        description: `The call worked and its answer is ${key} false (the reply above), or it failed (the error body).`,
        headers,
        content: json({ anyOf: [withFlag(false), errors.body(route.errorBody)] }),
      };
    }
  }

  for (const status of errorStatuses(route, secured || route.unauthorizedUnless !== undefined)) {
    if (status in result) continue;
    result[status] = errors.response(route.errorBody, status);
  }
  return result;
}
