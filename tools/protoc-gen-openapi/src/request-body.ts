import type { JsonObject } from "@bufbuild/protobuf";
import type { RestRoute } from "../../../src/rest/rest-routes.js";
import { withDescription } from "./comment-text.js";
import { fieldSchema } from "./field-schema.js";
import { capturedFields } from "./request-parameters.js";
import type { Rendering, SchemaRegistry } from "./schema-registry.js";

/**
 * requestBody describes what google.api.http body says travels in the body:
 * "*" the request's fields not in the path, or one named field. The
 * transcoder reads an empty body as {}, so a body is never required; a route
 * whose body would have no fields documents none.
 */
export function requestBody(route: RestRoute, registry: SchemaRegistry): JsonObject | undefined {
  if (route.body === "") return undefined;
  const rendering: Rendering = { useProtoFieldNames: route.useProtoFieldNames, direction: "request" };
  const input = route.method.input;
  let schema: JsonObject;
  if (route.body === "*") {
    const omit = capturedFields(route);
    if (input.fields.every((f) => omit.includes(f))) return undefined;
    schema = withDescription(input, registry.objectSchema(input, rendering, { omit }));
  } else {
    const field = input.fields.find((f) => f.name === route.body);
    if (!field) throw new Error(`${route.pattern}: body "${route.body}" is not a field of ${input.typeName}`);
    schema = withDescription(field, fieldSchema(field, (m) => registry.messageSchema(m, rendering)));
  }
  return { required: false, content: { "application/json": { schema } } };
}
