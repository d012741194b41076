import type { DescField, JsonObject } from "@bufbuild/protobuf";
import type { RestRoute } from "../../../src/rest/rest-routes.js";
import { commentText } from "./comment-text.js";
import { fieldSchema } from "./field-schema.js";
import { pathFields } from "./openapi-path.js";
import { wellKnownSchema } from "./well-known-schema.js";

/** capturedFields are the request fields a route takes from its path. */
export function capturedFields(route: RestRoute): DescField[] {
  return pathFields(route.template).map((name) => {
    const field = route.method.input.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${route.pattern}: {${name}} is not a field of ${route.method.input.typeName}`);
    return field;
  });
}

/**
 * requestParameters are a route's path parameters and, unless the whole
 * request is the body, its query parameters: every other top-level field that
 * a query string can carry, as the transcoder's buildRequestJson reads them
 * (a repeated field from repeated keys).
 */
export function requestParameters(route: RestRoute): JsonObject[] {
  const captured = capturedFields(route);
  const name = (field: DescField) => (route.useProtoFieldNames ? field.name : field.jsonName);
  const parameters: JsonObject[] = captured.map((field) => parameter(field, field.name, "path", queryableSchema(field) ?? { type: "string" }));
  if (route.body === "*") return parameters;
  for (const field of route.method.input.fields) {
    if (captured.includes(field) || field.name === route.body) continue;
    const schema = queryableSchema(field);
    if (schema) parameters.push(parameter(field, name(field), "query", schema));
  }
  return parameters;
}

function parameter(field: DescField, name: string, location: "path" | "query", schema: JsonObject): JsonObject {
  const description = commentText(field);
  return { name, in: location, required: location === "path", ...(description !== undefined ? { description } : {}), schema };
}

// Scalars, enums, lists of them, and well-known types written as strings
// (a Timestamp) fit in a query string; other messages do not.
function queryableSchema(field: DescField): JsonObject | undefined {
  if (field.fieldKind === "map") return undefined;
  const message = field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : undefined;
  if (message) {
    const wkt = wellKnownSchema(message);
    if (wkt?.type !== "string") return undefined;
  }
  return fieldSchema(field, (m) => wellKnownSchema(m)!);
}
