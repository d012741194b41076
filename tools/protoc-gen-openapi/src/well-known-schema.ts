import type { DescMessage, JsonObject } from "@bufbuild/protobuf";
import { scalarSchema } from "./scalar-schema.js";

/**
 * wellKnownSchema is the JSON Schema of a well-known type that the proto3
 * JSON mapping writes specially (a Timestamp is an RFC 3339 string, a Struct
 * any object); undefined for an ordinary message.
 */
export function wellKnownSchema(message: DescMessage): JsonObject | undefined {
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time" };
    case "google.protobuf.Duration":
      return { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" };
    case "google.protobuf.FieldMask":
      return { type: "string" };
    case "google.protobuf.Struct":
      return { type: "object" };
    case "google.protobuf.Value":
      return {}; // any JSON value
    case "google.protobuf.ListValue":
      return { type: "array" };
    case "google.protobuf.Any":
      return { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"] };
  }
  // Wrappers (google.protobuf.StringValue, …) are written as their one value.
  if (message.file.name === "google/protobuf/wrappers" && message.fields.length === 1 && message.fields[0]!.fieldKind === "scalar") {
    return scalarSchema(message.fields[0]!.scalar);
  }
  return undefined;
}
