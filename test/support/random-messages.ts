import { randomInt } from "node:crypto";
import { create, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { chance, int32, pick } from "./proto-fixtures.js";

/** What an encoder's test decides about the values of its random messages. */
export interface RandomValues {
  scalar(type: ScalarType, longAsString: boolean): unknown;
  /** A Struct field's JSON object (protobuf-es holds Structs as JSON). */
  jsonObject(depth: number): unknown;
  /** A map key in its local (string) form. */
  mapKey(type: ScalarType): string;
  /** The odds that a list's enum value is one the enum declares. */
  readonly listEnumDeclared: number;
  /** The most entries a map gets, plus one. */
  readonly mapEntries: number;
  /** Nesting deeper than this leaves messages, lists and maps unset. */
  readonly maxDepth: number;
  /** A message of its own making (a well-known type written by hand), if the test has one. */
  special?(desc: DescMessage, depth: number): Message | undefined;
  /** Whether to set `field` of `desc` at this depth (asked after the depth limit). */
  set(field: DescField, desc: DescMessage, depth: number): boolean;
}

/**
 * randomMessages makes random messages of any schema in protobuf-es's local
 * form: every field kind, oneofs, nested messages, unwrapped wrappers,
 * Structs as JSON, and now and then an unknown field.
 */
export function randomMessages(v: RandomValues): (desc: DescMessage) => Message {
  const isStruct = (field: DescField) => field.message?.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value";

  function messageValue(field: DescField & { message: DescMessage }, depth: number, unwrap: boolean): unknown {
    if (isStruct(field)) return v.jsonObject(0);
    if (unwrap && !field.oneof && isWrapperDesc(field.message)) return v.scalar(field.message.fields[0]!.scalar!, false);
    return random(field.message, depth + 1);
  }

  function value(field: DescField, depth: number): unknown {
    switch (field.fieldKind) {
      case "scalar": return v.scalar(field.scalar, field.longAsString);
      case "enum": return chance(0.8) ? pick(field.enum.values).number : int32();
      case "message": return messageValue(field, depth, true);
      case "list": {
        const length = depth > 2 ? 0 : randomInt(5);
        return Array.from({ length }, () =>
          field.listKind === "scalar" ? v.scalar(field.scalar, field.longAsString)
          : field.listKind === "enum" ? (chance(v.listEnumDeclared) ? pick(field.enum.values).number : int32())
          : messageValue(field as DescField & { message: DescMessage }, depth, false));
      }
      case "map": {
        const entries = depth > 2 ? 0 : randomInt(v.mapEntries);
        return Object.fromEntries(Array.from({ length: entries }, () => [
          v.mapKey(field.mapKey),
          field.mapKind === "scalar" ? v.scalar(field.scalar, false)
          : field.mapKind === "enum" ? pick(field.enum.values).number
          : messageValue(field as DescField & { message: DescMessage }, depth, false),
        ]));
      }
    }
  }

  function random(desc: DescMessage, depth = 0): Message {
    const special = v.special?.(desc, depth);
    if (special) return special;
    const message = create(desc) as unknown as Record<string, unknown>;
    for (const field of desc.fields) {
      if (depth > v.maxDepth && (field.fieldKind === "message" || field.fieldKind === "list" || field.fieldKind === "map")) continue;
      if (!v.set(field, desc, depth)) continue;
      if (field.oneof) {
        if (chance(0.5)) message[field.oneof.localName] = { case: field.localName, value: value(field, depth) };
      } else {
        message[field.localName] = value(field, depth);
      }
    }
    if (chance(0.1)) message.$unknown = [{ no: 9999, wireType: 2, data: new Uint8Array([3, 1, 2, 3]) }];
    return message as unknown as Message;
  }

  return (desc) => random(desc);
}
