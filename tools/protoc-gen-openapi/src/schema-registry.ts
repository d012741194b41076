import type { DescField, DescMessage, JsonObject } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { withDescription } from "./comment-text.js";
import { fieldSchema } from "./field-schema.js";
import { wellKnownSchema } from "./well-known-schema.js";

/** How a message is rendered: its JSON field names, and which way it travels. */
export interface Rendering {
  /** Proto names (snake_case) or JSON names (lowerCamelCase / json_name), as the service's json_names says. */
  readonly useProtoFieldNames: boolean;
  /** A response requires the fields the service always writes; a request requires none. */
  readonly direction: "request" | "response";
}

/** Changes to one inline rendering of a message. */
export interface Overlay {
  /** Fields left out, because they travel in the path. */
  readonly omit?: readonly DescField[];
  /** Fields always written, JSON null when unset (always_present). */
  readonly nullable?: readonly DescField[];
}

export interface SchemaRegistry {
  /** A well-known type's schema, or a $ref to the message's component (made on first use). */
  messageSchema(message: DescMessage, rendering: Rendering): JsonObject;
  /** The message's object schema, inline. */
  objectSchema(message: DescMessage, rendering: Rendering, overlay?: Overlay): JsonObject;
  /** Adds a named component schema; returns a $ref to it. */
  addComponent(name: string, schema: JsonObject): JsonObject;
  /** The component schemas, sorted by name (check-generated compares the output). */
  components(): JsonObject;
}

/**
 * createSchemaRegistry builds JSON Schemas of messages as the REST transcoder
 * renders them (toJson with alwaysEmitImplicit): implicit-presence scalars,
 * lists and maps are always written, so a response requires them; optional
 * and message fields appear only when set. additionalProperties is false, so
 * a renamed field fails validation instead of passing as an extra one.
 */
export function createSchemaRegistry(): SchemaRegistry {
  const schemas = new Map<string, JsonObject>();
  // Which rendering of which message each name stands for: one name, one shape.
  const owners = new Map<string, string>();

  const registry: SchemaRegistry = {
    messageSchema(message, rendering) {
      const wkt = wellKnownSchema(message);
      if (wkt) return wkt;
      // A request's nested messages require nothing, so they are their own components.
      const name = rendering.direction === "request" ? `${message.name}Input` : message.name;
      const owner = `${message.typeName} ${rendering.useProtoFieldNames ? "proto" : "json"} names, ${rendering.direction}`;
      const known = owners.get(name);
      if (known !== undefined && known !== owner) throw new Error(`schema name ${name} would stand for both ${known} and ${owner}`);
      if (known === undefined) {
        owners.set(name, owner);
        schemas.set(name, {}); // placeholder first: a message may contain itself
        schemas.set(name, withDescription(message, registry.objectSchema(message, rendering)));
      }
      return ref(name);
    },

    objectSchema(message, rendering, overlay = {}) {
      const properties: JsonObject = {};
      const required: string[] = [];
      for (const field of message.fields) {
        if (overlay.omit?.includes(field)) continue;
        const key = rendering.useProtoFieldNames ? field.name : field.jsonName;
        let schema = fieldSchema(field, (m) => registry.messageSchema(m, rendering));
        const nullable = overlay.nullable?.includes(field) ?? false;
        if (nullable) schema = { anyOf: [schema, { type: "null" }] };
        properties[key] = withDescription(field, schema);
        if (rendering.direction === "response" && (nullable || alwaysWritten(field))) required.push(key);
      }
      return { type: "object", properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
    },

    addComponent(name, schema) {
      if (schemas.has(name)) throw new Error(`schema name ${name} is taken`);
      schemas.set(name, schema);
      return ref(name);
    },

    components() {
      return Object.fromEntries([...schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    },
  };
  return registry;
}

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

// toJson with alwaysEmitImplicit writes these even at their zero value.
function alwaysWritten(field: DescField): boolean {
  if (field.fieldKind === "list" || field.fieldKind === "map") return true;
  if (field.fieldKind === "message" || field.oneof !== undefined) return false;
  return field.presence === FeatureSet_FieldPresence.IMPLICIT;
}
