import type { DescEnum, DescField, DescMessage, JsonObject, ScalarType } from "@bufbuild/protobuf";
import { scalarSchema } from "./scalar-schema.js";

type MessageSchema = (message: DescMessage) => JsonObject;

/**
 * fieldSchema is the JSON Schema of a field's value in the proto3 JSON
 * mapping: repeated fields are arrays, maps objects (their keys are strings
 * in JSON), enums their value names. Messages are left to messageSchema,
 * which knows the naming and direction they are rendered in.
 */
export function fieldSchema(field: DescField, messageSchema: MessageSchema): JsonObject {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumSchema(field.enum);
    case "message":
      return messageSchema(field.message);
    case "list":
      return { type: "array", items: elementSchema(field.listKind, field, messageSchema) };
    case "map":
      return { type: "object", additionalProperties: elementSchema(field.mapKind, field, messageSchema) };
  }
}

function elementSchema(
  kind: "scalar" | "enum" | "message",
  element: { scalar?: ScalarType; enum?: DescEnum; message?: DescMessage },
  messageSchema: MessageSchema,
): JsonObject {
  if (kind === "scalar") return scalarSchema(element.scalar!);
  if (kind === "enum") return enumSchema(element.enum!);
  return messageSchema(element.message!);
}

function enumSchema(descEnum: DescEnum): JsonObject {
  if (descEnum.typeName === "google.protobuf.NullValue") return { type: "null" };
  return { type: "string", enum: descEnum.values.map((v) => v.name) };
}
