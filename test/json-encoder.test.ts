// encodeJson must write exactly what JSON.stringify(toJson(...)) writes, for
// every message: the Connect and REST JSON replies send its text. Held equal
// here over random messages of every schema this API replies with, the
// well-known types, and two test files that use every field kind protobuf-es
// maps specially (Struct as JSON, unwrapped wrappers, Timestamp, Duration,
// FieldMask, Any, Empty, Value, ListValue, NullValue, maps with keys of
// every kind, oneofs, enums with unknown numbers, proto2 required and
// defaults), under all four combinations of useProtoFieldName and
// alwaysEmitImplicit, with and without nullForUnset. No Redis needed.
import { randomBytes, randomInt } from "node:crypto";
import {
  create,
  createFileRegistry,
  ScalarType,
  toJson,
  type DescField,
  type DescFile,
  type DescMessage,
  type Message,
} from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  DurationSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
  hasCustomJsonRepresentation,
  StructSchema,
  TimestampSchema,
  ValueSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import { describe, expect, it, vi } from "vitest";
import { GetAuthStatusResponseSchema } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { encodeJson, type JsonEncodeOptions } from "../src/dispatch/json-encoder.js";
import { randomMessages } from "./support/random-messages.js";
import { apiFiles, chance, int32, int64, messagesOf, pick, scalarTypes, uint32, uint64, wrapperNames } from "./support/proto-fixtures.js";

// toJson, counted: the encoder must write valid messages itself, not hand them all on.
const calls = vi.hoisted(() => ({ toJson: 0 }));
vi.mock("@bufbuild/protobuf", async (original) => {
  const actual = await original<typeof import("@bufbuild/protobuf")>();
  return { ...actual, toJson: (...args: Parameters<typeof actual.toJson>) => (calls.toJson++, actual.toJson(...args)) };
});

// --- Two test files: every scalar, as singular, optional, repeated, map value and oneof member; every map key kind; the WKTs.

const mapKeyTypes = [
  Type.INT64, Type.UINT64, Type.INT32, Type.FIXED64, Type.FIXED32, Type.BOOL, Type.STRING, Type.UINT32, Type.SFIXED32, Type.SFIXED64, Type.SINT32, Type.SINT64,
];
const wkts = ["Timestamp", "Duration", "FieldMask", "Any", "Empty", "Value", "ListValue", "Struct"];

function testFile(syntax: "proto2" | "proto3"): DescFile {
  const fields: Partial<FieldDescriptorProto>[] = [];
  const nested: Partial<DescriptorProto>[] = [];
  let number = 1;
  const add = (field: Partial<FieldDescriptorProto>) => fields.push({ jsonName: protoCamelCase(field.name!), label: Label.OPTIONAL, number: number++, ...field });
  const mapOf = (name: string, keyType: Type, value: Partial<FieldDescriptorProto>) => {
    const entry = `M${name}Entry`;
    nested.push({ name: entry, options: { mapEntry: true } as never, field: [
      { name: "key", number: 1, label: Label.OPTIONAL, type: keyType, jsonName: "key" },
      { name: "value", number: 2, label: Label.OPTIONAL, jsonName: "value", ...value },
    ] as FieldDescriptorProto[] });
    add({ name: `m_${name}`, type: Type.MESSAGE, typeName: `.t${syntax}.All.${entry}`, label: Label.REPEATED });
  };
  for (const type of scalarTypes) {
    const name = Type[type].toLowerCase();
    add({ name: `s_${name}`, type, ...(syntax === "proto2" && type === Type.INT32 ? { defaultValue: "7" } : {}) });
    add({ name: `r_${name}`, type, label: Label.REPEATED });
    add({ name: `o_${name}`, type, oneofIndex: 0 });
    if (syntax === "proto3") add({ name: `p_${name}`, type, proto3Optional: true, oneofIndex: 1 + fields.filter((f) => f.proto3Optional).length });
    mapOf(name, Type.STRING, { type });
  }
  for (const type of mapKeyTypes) mapOf(`key_${Type[type].toLowerCase()}`, type, { type: Type.STRING });
  for (const wrapper of wrapperNames) {
    add({ name: `w_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}` });
    add({ name: `rw_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}`, label: Label.REPEATED });
    add({ name: `ow_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}`, oneofIndex: 0 });
    mapOf(wrapper.toLowerCase(), Type.STRING, { type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}` });
  }
  for (const wkt of wkts) {
    const lower = wkt.toLowerCase();
    add({ name: `k_${lower}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wkt}` });
    add({ name: `rk_${lower}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wkt}`, label: Label.REPEATED });
    add({ name: `ok_${lower}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wkt}`, oneofIndex: 0 });
    mapOf(lower, Type.STRING, { type: Type.MESSAGE, typeName: `.google.protobuf.${wkt}` });
  }
  add({ name: "null_value", type: Type.ENUM, typeName: ".google.protobuf.NullValue" });
  add({ name: "null_values", type: Type.ENUM, typeName: ".google.protobuf.NullValue", label: Label.REPEATED });
  add({ name: "e", type: Type.ENUM, typeName: `.t${syntax}.Color` });
  add({ name: "es", type: Type.ENUM, typeName: `.t${syntax}.Color`, label: Label.REPEATED });
  add({ name: "o_e", type: Type.ENUM, typeName: `.t${syntax}.Color`, oneofIndex: 0 });
  mapOf("e", Type.INT32, { type: Type.ENUM, typeName: `.t${syntax}.Color` });
  add({ name: "self", type: Type.MESSAGE, typeName: `.t${syntax}.All` });
  add({ name: "selves", type: Type.MESSAGE, typeName: `.t${syntax}.All`, label: Label.REPEATED });
  add({ name: "o_self", type: Type.MESSAGE, typeName: `.t${syntax}.All`, oneofIndex: 0 });
  mapOf("self", Type.STRING, { type: Type.MESSAGE, typeName: `.t${syntax}.All` });
  add({ name: "big", type: Type.INT64, number: 536870911 });
  // A JSON name of its own, and a name every JS object inherits.
  add({ name: "renamed_field", type: Type.STRING, jsonName: "otherName" });
  add({ name: "constructor", type: Type.MESSAGE, typeName: `.t${syntax}.All` });
  // 64-bit integers as strings, singular and repeated.
  for (const type of [Type.INT64, Type.UINT64, Type.SINT64, Type.FIXED64, Type.SFIXED64]) {
    add({ name: `str_${Type[type].toLowerCase()}`, type, options: { jstype: 1 /* JS_STRING */ } as never });
    add({ name: `strs_${Type[type].toLowerCase()}`, type, label: Label.REPEATED, options: { jstype: 1 /* JS_STRING */ } as never });
  }
  if (syntax === "proto2") add({ name: "req", type: Type.STRING, label: Label.REQUIRED });
  // Declared out of number order: toJson writes fields by number.
  fields.reverse();
  const oneofs = [{ name: "choice" }, ...fields.filter((f) => f.proto3Optional).reverse().map((f) => ({ name: `_${f.name}` }))];
  const file = create(FileDescriptorProtoSchema, {
    name: `t${syntax}.proto`,
    package: `t${syntax}`,
    syntax,
    dependency: wktDeps.map(([name]) => name),
    enumType: [{
      name: "Color",
      options: { allowAlias: true } as never,
      value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "COLOR_RED", number: 1 }, { name: "COLOR_CRIMSON", number: 1 }, { name: "COLOR_DEEP", number: -5 }],
    }],
    messageType: [
      create(DescriptorProtoSchema, { name: "All", field: fields as FieldDescriptorProto[], nestedType: nested as DescriptorProto[], oneofDecl: oneofs }),
      // JSON names a JS object reorders (an array index) or repeats: left to toJson.
      create(DescriptorProtoSchema, { name: "Odd", field: [
        { name: "a", number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: "a" },
        { name: "b", number: 2, label: Label.OPTIONAL, type: Type.STRING, jsonName: "7" },
      ] as FieldDescriptorProto[] }),
    ],
  });
  return createFileRegistry(file, (name) => new Map(wktDeps).get(name)).getFile(`t${syntax}.proto`)!;
}
const wktDeps: [string, DescFile][] = [
  ["google/protobuf/struct.proto", file_google_protobuf_struct],
  ["google/protobuf/wrappers.proto", file_google_protobuf_wrappers],
  ["google/protobuf/timestamp.proto", file_google_protobuf_timestamp],
  ["google/protobuf/duration.proto", file_google_protobuf_duration],
  ["google/protobuf/field_mask.proto", file_google_protobuf_field_mask],
  ["google/protobuf/any.proto", file_google_protobuf_any],
  ["google/protobuf/empty.proto", file_google_protobuf_empty],
];

// --- Random messages in protobuf-es's local form. `bad` is the odds of a value toJson refuses, where there is one.

let bad = 0;
const texts = [
  "", "a", "ASCII only", "é", "€uro", "😀 emoji", "lone \ud800 surrogate", "nul\u0000byte", "quote \" back\\slash", "\n\t\u001f\u007f\u2028",
  "</script>", "y".repeat(60), "é".repeat(150), "__proto__", "constructor", "0", "7", "-1", "4294967295", "4294967294", "01",
];
const double = () => pick([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e-7, 0.1 + 0.2, Math.random() * 1e9]);
const finite = () => pick([0, -0, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e-7, 0.1 + 0.2, Math.random() * 1e9, -randomInt(1e9)]);

function scalar(type: ScalarType, longAsString: boolean): unknown {
  switch (type) {
    case ScalarType.DOUBLE: return double();
    case ScalarType.FLOAT: return Math.fround(double());
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return longAsString ? String(int64()) : int64();
    case ScalarType.UINT64: case ScalarType.FIXED64: return longAsString ? String(uint64()) : uint64();
    case ScalarType.INT32: case ScalarType.SINT32: case ScalarType.SFIXED32: return int32();
    case ScalarType.UINT32: case ScalarType.FIXED32: return uint32();
    case ScalarType.BOOL: return chance(0.5);
    case ScalarType.STRING: return pick(texts);
    case ScalarType.BYTES: return new Uint8Array(randomBytes(pick([0, 1, 2, 3, 5, 130])));
  }
}

function mapKey(type: ScalarType): string {
  switch (type) {
    case ScalarType.STRING: return pick(texts);
    case ScalarType.BOOL: return String(chance(0.5));
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return String(int64());
    case ScalarType.UINT64: case ScalarType.FIXED64: return String(uint64());
    case ScalarType.UINT32: case ScalarType.FIXED32: return String(uint32());
    default: return String(int32());
  }
}

function json(depth: number): unknown {
  switch (randomInt(depth > 2 ? 4 : 6)) {
    case 0: return null;
    case 1: return chance(bad) ? pick([NaN, Infinity, undefined, 1n]) : finite();
    case 2: return pick(texts);
    case 3: return chance(0.5);
    case 4: return Array.from({ length: randomInt(4) }, () => json(depth + 1));
    default: return jsonObject(depth + 1);
  }
}
const jsonObject = (depth: number) => Object.fromEntries(Array.from({ length: randomInt(4) }, () => [pick(texts), json(depth)]));

const timestampSeconds = () => pick([
  0n, 1n, -1n, 86399n, 86400n, -86401n, 951782400n /* 2000-02-29 */, 1700000000n, -62135596800n, 253402300799n,
  BigInt(randomInt(-62135596800, 253402300799)), BigInt(randomInt(0, 4102444800)),
]);
const nanos = () => pick([0, 0, 1, 10, 999999999, 123000000, 123456000, 123456789, 500000000, 1000, 1000000, randomInt(0, 1000000000)]);

function wktValue(desc: DescMessage, depth: number): Message | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return create(TimestampSchema, chance(bad)
        ? pick([{ seconds: -62135596801n }, { seconds: 253402300800n }, { seconds: 1n, nanos: -1 }, { seconds: 1n, nanos: 1000000000 }, { seconds: 2n ** 62n }])
        : { seconds: timestampSeconds(), nanos: nanos() });
    case "google.protobuf.Duration": {
      if (chance(bad)) return create(DurationSchema, pick([{ seconds: 315576000001n }, { seconds: 1n, nanos: -1 }, { seconds: -1n, nanos: 1 }, { nanos: 1000000000 }]));
      const seconds = pick([0n, 1n, -1n, 315576000000n, -315576000000n, BigInt(randomInt(-1e9, 1e9))]);
      const n = nanos();
      return create(DurationSchema, { seconds, nanos: seconds < 0n || (seconds === 0n && chance(0.5)) ? -n : n });
    }
    case "google.protobuf.FieldMask":
      return create(desc, { paths: Array.from({ length: randomInt(4) }, () => chance(bad) ? pick(["foo__bar", "Foo", "a_1"]) : pick(["a", "foo_bar", "foo.bar_baz", "x1y", "quote\"d", "é_x"])) } as never);
    case "google.protobuf.Any":
      return create(desc, chance(bad) ? { typeUrl: "type.googleapis.com/google.protobuf.Empty" } as never : {});
    case "google.protobuf.Value":
      return chance(bad) ? create(ValueSchema) : create(ValueSchema, { kind: valueKind(depth) } as never);
    case "google.protobuf.ListValue":
      return create(desc, { values: Array.from({ length: depth > 2 ? 0 : randomInt(4) }, () => create(ValueSchema, { kind: valueKind(depth + 1) } as never)) } as never);
    case "google.protobuf.Struct":
      return create(StructSchema, { fields: Object.fromEntries(Array.from({ length: depth > 2 ? 0 : randomInt(4), }, () => [pick(texts), create(ValueSchema, { kind: valueKind(depth + 1) } as never)])) });
  }
  return undefined;
}

function valueKind(depth: number): { case: string; value: unknown } {
  switch (randomInt(depth > 2 ? 4 : 6)) {
    case 0: return { case: "nullValue", value: 0 };
    case 1: return { case: "numberValue", value: chance(bad) ? NaN : finite() };
    case 2: return { case: "stringValue", value: pick(texts) };
    case 3: return { case: "boolValue", value: chance(0.5) };
    case 4: return { case: "listValue", value: wktValue(file_google_protobuf_struct.messages[2]!, depth + 1) };
    default: return { case: "structValue", value: wktValue(StructSchema, depth + 1) };
  }
}

const random = randomMessages({
  scalar,
  jsonObject,
  mapKey,
  listEnumDeclared: 0.9,
  mapEntries: 5,
  maxDepth: 2,
  special: wktValue,
  // Recursion one level deep (the test files' message is large); a proto2 required field is set, but at the odds of a bad value.
  set: (field, desc, depth) => !(field.message === desc && depth > 0) && (field.presence === 3 /* LEGACY_REQUIRED */ ? !chance(bad) : chance(0.5)),
});

// --- The schemas.

const wktFiles = [
  file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_duration,
  file_google_protobuf_any, file_google_protobuf_type, file_google_protobuf_api, file_google_protobuf_descriptor,
  file_google_protobuf_field_mask, file_google_protobuf_empty,
];

const modes: JsonEncodeOptions[] = [
  {},
  { useProtoFieldName: true },
  { alwaysEmitImplicit: true },
  { useProtoFieldName: true, alwaysEmitImplicit: true },
];

/**
 * A few of the message's fields (message fields most), some listed twice, as
 * a route's alwaysPresent. (None for a well-known type with a JSON form of
 * its own: encodeJson leaves those to toJson, see the nullForUnset test.)
 */
const someFields = (desc: DescMessage): DescField[] => {
  if (hasCustomJsonRepresentation(desc)) return [];
  const fields = desc.fields.filter((f) => chance(f.fieldKind === "message" ? 0.6 : 0.15));
  return chance(0.2) && fields.length > 0 ? [...fields, fields[0]!] : fields;
};

/** JSON.stringify(toJson(...)), then the REST renderer's loop for nullForUnset, as rest-handler.ts has it. */
function reference(desc: DescMessage, message: Message, options: JsonEncodeOptions): string {
  const json = toJson(desc, message, options);
  if (options.nullForUnset && options.nullForUnset.length > 0 && typeof json === "object" && json !== null && !Array.isArray(json)) {
    for (const field of options.nullForUnset) {
      const key = options.useProtoFieldName ? field.name : field.jsonName;
      if (!(key in json)) json[key] = null;
    }
  }
  return JSON.stringify(json);
}

let fellBack = 0;
let compared = 0;
let refused = 0;

function expectSame(desc: DescMessage, message: Message, options: JsonEncodeOptions) {
  let expected: string | undefined;
  let error: unknown;
  try {
    expected = reference(desc, message, options);
  } catch (e) {
    error = e;
  }
  if (error !== undefined) {
    // What toJson refuses, encodeJson refuses with toJson's own error.
    refused++;
    expect(() => encodeJson(desc, message, options)).toThrow((error as Error).message);
    return;
  }
  const before = calls.toJson;
  const actual = encodeJson(desc, message, options);
  fellBack += calls.toJson - before;
  compared++;
  if (actual !== expected) expect(actual, `${desc.typeName} ${JSON.stringify(options, (k, v) => (k === "nullForUnset" ? v.map(String) : v))}`).toBe(expected);
}

function expectSameInEveryMode(desc: DescMessage, message: Message) {
  for (const mode of modes) {
    expectSame(desc, message, mode);
    expectSame(desc, message, { ...mode, nullForUnset: someFields(desc) });
  }
}

describe("encodeJson", () => {
  it("writes what toJson writes for random messages of every API schema", () => {
    const schemas = apiFiles.flatMap(messagesOf);
    expect(schemas.length).toBeGreaterThan(40);
    fellBack = compared = refused = 0;
    bad = 0;
    for (const desc of schemas) for (let i = 0; i < 60; i++) expectSameInEveryMode(desc, random(desc));
    expect(fellBack).toBe(0);
    expect(refused).toBe(0);
    expect(compared).toBe(schemas.length * 60 * 8);
  });

  it("writes what toJson writes for the well-known types (Timestamp, Duration, FieldMask, Struct, Value, ListValue, wrappers, Any, Empty, descriptor.proto)", () => {
    fellBack = compared = refused = 0;
    bad = 0;
    for (const desc of wktFiles.flatMap(messagesOf)) for (let i = 0; i < 30; i++) expectSameInEveryMode(desc, random(desc));
    expect(fellBack).toBe(0);
    expect(refused).toBe(0);
  });

  it("writes what toJson writes for every field kind, in proto3 and in proto2", () => {
    fellBack = compared = refused = 0;
    bad = 0;
    for (const syntax of ["proto3", "proto2"] as const) {
      const all = testFile(syntax).messages[0]!;
      expect(all.fields.find((f) => f.name === "str_int64")).toMatchObject({ longAsString: true });
      for (let i = 0; i < 60; i++) expectSameInEveryMode(all, random(all));
    }
    expect(fellBack).toBe(0);
    expect(refused).toBe(0);
  });

  it("Timestamps: every second of the range toJson takes, as Date writes them, with 0, 3, 6 or 9 fractional digits", () => {
    fellBack = compared = 0;
    const seconds = [-62135596800n, 253402300799n, 0n, -1n, 951782400n - 1n, 951782400n, 4107542400n /* 2100-03-01 */, -2203891200n /* 1900-03-01 */];
    for (let i = 0; i < 20000; i++) seconds.push(BigInt(randomInt(-62135596800, 253402300800)));
    for (const s of seconds) expectSame(TimestampSchema, create(TimestampSchema, { seconds: s, nanos: nanos() }), {});
    expect(fellBack).toBe(0);
    expect(compared).toBe(seconds.length);
  });

  it("what toJson refuses (Timestamps and Durations out of range, NaN in a Struct, an Any with a type, a required field missing) fails as toJson fails", () => {
    fellBack = compared = refused = 0;
    bad = 0.02;
    for (const syntax of ["proto3", "proto2"] as const) {
      const all = testFile(syntax).messages[0]!;
      for (let i = 0; i < 60; i++) expectSameInEveryMode(all, random(all));
    }
    expect(refused).toBeGreaterThan(50);
    expect(compared).toBeGreaterThan(50);
    bad = 0;
    const proto2 = testFile("proto2").messages[0]!;
    expect(() => encodeJson(proto2, create(proto2))).toThrow(/required field not set/);
    const ts = create(TimestampSchema, { seconds: 253402300800n });
    expect(() => encodeJson(TimestampSchema, ts)).toThrow(/must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z/);
    expect(() => encodeJson(StructSchema, create(StructSchema, { fields: { a: create(ValueSchema) } }))).toThrow(/must have a value/);
  });

  it("values toJson takes though they are not what the type says give its text too (left to toJson)", () => {
    const all = testFile("proto3").messages[0]!;
    const odd: [string, unknown][] = [
      ["sDouble", "1.5"], ["sBool", 1], ["sString", 42], ["sInt32", "12"], ["sInt64", 1.5], ["kStruct", { a: undefined }],
      ["rInt32", [1, "2"]], ["oE", undefined],
    ];
    for (const [field, value] of odd) {
      const message = create(all) as unknown as Record<string, unknown>;
      if (field === "oE") message.choice = { case: "oE", value };
      else message[field] = value;
      for (const mode of modes) expectSame(all, message as unknown as Message, mode);
    }
    // A oneof message member set to undefined: toJson writes the default message.
    const message = create(all) as unknown as Record<string, unknown>;
    message.choice = { case: "oSelf", value: undefined };
    fellBack = 0;
    expectSame(all, message as unknown as Message, {});
    expect(fellBack).toBe(1);
    // A Struct field holding what is no JSON object is an empty Struct; numbers as JSON.stringify writes them.
    // (And what JSON.stringify would write otherwise: a toJSON, an own toJSON, an array's extra property, a class instance, holes.)
    const structValues: unknown[] = [
      "text", [1, 2], 5, { n: 1e21, m: 1e-7, z: -0, big: Number.MAX_VALUE, d: new Date(0) }, Object.assign(Object.create(null), { a: [1, { b: null }] }),
      { inst: new (class { x = 1; y = "z"; })() }, { arr: Object.assign([1, 2], { extra: 3 }) }, { t: { toJSON: () => "x" } }, { holes: [1, , 2] },
      { deep: JSON.parse("[".repeat(40) + "1" + "]".repeat(40)) }, { ["__proto__"]: 1, constructor: { toString: "s" } }, JSON.parse('{"__proto__":{"a":1}}'),
    ];
    for (const structValue of structValues) {
      const withStruct = create(all) as unknown as Record<string, unknown>;
      withStruct.kStruct = structValue;
      withStruct.sInt32 = NaN;
      withStruct.e = 1e100;
      fellBack = 0;
      for (const mode of modes) expectSame(all, withStruct as unknown as Message, mode);
      expect(fellBack).toBe(0);
    }
    // What toJson walks otherwise than JSON.stringify writes: a toJSON of an array or not enumerable
    // (toJson never calls it), an array's own iterator (toJson follows it), nesting deeper than a profile's.
    const hiddenToJson = Object.defineProperty({ a: 1 }, "toJSON", { value: () => "x", enumerable: false });
    const ownIterator = Object.assign([1, 2], { [Symbol.iterator]: function* () { yield 9; } });
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = i % 2 ? { a: deep } : [deep];
    for (const structValue of [{ list: Object.assign([1, 2], { toJSON: () => "x" }) }, hiddenToJson, { nested: hiddenToJson }, { l: ownIterator }, { deep }]) {
      const withStruct = create(all) as unknown as Record<string, unknown>;
      withStruct.kStruct = structValue;
      for (const mode of modes) expectSame(all, withStruct as unknown as Message, mode);
    }
  });

  it("field names a JS object would reorder or that another field has are left to toJson, which gets the order right", () => {
    const odd = testFile("proto3").messages[1]!;
    expect(odd.fields[1]!.jsonName).toBe("7");
    const message = create(odd, { a: "x", b: "y" } as never);
    fellBack = 0;
    expectSame(odd, message, {});
    expect(fellBack).toBe(1);
    expect(encodeJson(odd, message)).toBe('{"7":"y","a":"x"}');
    // With proto names ("a", "b") it is an ordinary message.
    fellBack = 0;
    expectSame(odd, message, { useProtoFieldName: true });
    expect(fellBack).toBe(0);
  });

  it("nullForUnset appends null for the listed fields left out, in order, once, not for inherited names", () => {
    const all = testFile("proto3").messages[0]!;
    const field = (name: string) => all.fields.find((f) => f.name === name)!;
    const message = create(all, { sString: "x", self: create(all) } as never);
    const nullForUnset = [field("k_timestamp"), field("self"), field("constructor"), field("renamed_field"), field("k_timestamp"), field("p_int32")];
    fellBack = 0;
    for (const mode of modes) expectSame(all, message, { ...mode, nullForUnset });
    expect(fellBack).toBe(0);
    expect(encodeJson(all, message, { nullForUnset })).toBe('{"sString":"x","self":{},"kTimestamp":null,"otherName":null,"pInt32":null}');
    expect(encodeJson(all, message, { useProtoFieldName: true, nullForUnset: [field("renamed_field")] })).toBe('{"s_string":"x","self":{},"renamed_field":null}');
    // On a well-known type written as no object, nothing is appended (left to toJson).
    expectSame(TimestampSchema, create(TimestampSchema), { nullForUnset: [TimestampSchema.fields[0]!] });
  });

  it("a GetAuthStatusResponse as the REST route writes it", () => {
    const message = create(GetAuthStatusResponseSchema, {
      success: true,
      valid: true,
      user: { id: "u-1", name: "Zoë \"Z\" Example", roles: ["admin", "ops"], age: 41, verified: true, meta: { tz: null } },
      session: { createdAt: { seconds: 1764556800n }, lastAccessed: { seconds: 1764560000n, nanos: 123000000 }, timeoutMinutes: 30, remainingSeconds: 1800 },
    });
    const alwaysPresent = GetAuthStatusResponseSchema.fields.filter((f) => f.fieldKind === "message" || f.name === "message");
    fellBack = 0;
    for (const mode of modes) expectSame(GetAuthStatusResponseSchema, message, { ...mode, nullForUnset: alwaysPresent });
    expect(fellBack).toBe(0);
    expect(encodeJson(GetAuthStatusResponseSchema, message, { useProtoFieldName: true, alwaysEmitImplicit: true, nullForUnset: alwaysPresent })).toBe(
      '{"success":true,"valid":true,"user":{"id":"u-1","name":"Zoë \\"Z\\" Example","roles":["admin","ops"],"age":41,"verified":true,"meta":{"tz":null}},' +
        '"session":{"created_at":"2025-12-01T02:40:00Z","last_accessed":"2025-12-01T03:33:20.123Z","timeout_minutes":30,"remaining_seconds":1800},' +
        '"message":null}',
    );
  });
});
