// encodeBinary must write exactly what protobuf-es's toBinary writes, for
// every message: the gRPC fast path sends its bytes. Held equal here over
// random messages of every schema this API replies with, the well-known
// types, and two test files that use every field kind protobuf-es maps
// specially (Struct as JSON, unwrapped wrappers, maps, oneofs, packed and
// unpacked lists, proto2 required and defaults). No Redis needed.
import { randomBytes, randomInt } from "node:crypto";
import {
  create,
  createFileRegistry,
  ScalarType,
  toBinary,
  type DescFile,
  type DescMessage,
  type Message,
} from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
  ListValueSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it, vi } from "vitest";
import { encodeBinary } from "../src/dispatch/binary-encoder.js";
import { randomMessages } from "./support/random-messages.js";
import { apiFiles, chance, int32, int64, messagesOf, pick, scalarTypes, uint32, uint64, wrapperNames } from "./support/proto-fixtures.js";

// toBinary, counted: the encoder must write valid messages itself, not hand them all on.
const calls = vi.hoisted(() => ({ toBinary: 0 }));
vi.mock("@bufbuild/protobuf", async (original) => {
  const actual = await original<typeof import("@bufbuild/protobuf")>();
  return { ...actual, toBinary: (...args: Parameters<typeof actual.toBinary>) => (calls.toBinary++, actual.toBinary(...args)) };
});

// --- Two test files: every scalar, as singular, optional, repeated (packed and not), map value and oneof member.


function testFile(syntax: "proto2" | "proto3"): DescFile {
  const fields: Partial<FieldDescriptorProto>[] = [];
  const nested: Partial<DescriptorProto>[] = [];
  let number = 1;
  const add = (field: Partial<FieldDescriptorProto>) => fields.push({ jsonName: field.name, label: Label.OPTIONAL, number: number++, ...field });
  for (const type of scalarTypes) {
    const name = Type[type].toLowerCase();
    add({ name: `s_${name}`, type, ...(syntax === "proto2" && type === Type.INT32 ? { defaultValue: "7" } : {}) });
    add({ name: `r_${name}`, type, label: Label.REPEATED });
    if (type !== Type.STRING && type !== Type.BYTES) add({ name: `u_${name}`, type, label: Label.REPEATED, options: { packed: syntax === "proto2" } as never });
    add({ name: `o_${name}`, type, oneofIndex: 0 });
    if (syntax === "proto3") add({ name: `p_${name}`, type, proto3Optional: true, oneofIndex: 1 + fields.filter((f) => f.proto3Optional).length });
    const entry = `M${name}Entry`;
    nested.push({ name: entry, options: { mapEntry: true } as never, field: [
      { name: "key", number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: "key" },
      { name: "value", number: 2, label: Label.OPTIONAL, type, jsonName: "value" },
    ] as FieldDescriptorProto[] });
    add({ name: `m_${name}`, type: Type.MESSAGE, typeName: `.t${syntax}.All.${entry}`, label: Label.REPEATED });
  }
  for (const wrapper of wrapperNames) {
    add({ name: `w_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}` });
    add({ name: `rw_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}`, label: Label.REPEATED });
    add({ name: `ow_${wrapper.toLowerCase()}`, type: Type.MESSAGE, typeName: `.google.protobuf.${wrapper}`, oneofIndex: 0 });
  }
  add({ name: "struct", type: Type.MESSAGE, typeName: ".google.protobuf.Struct" });
  add({ name: "structs", type: Type.MESSAGE, typeName: ".google.protobuf.Struct", label: Label.REPEATED });
  add({ name: "o_struct", type: Type.MESSAGE, typeName: ".google.protobuf.Struct", oneofIndex: 0 });
  add({ name: "value", type: Type.MESSAGE, typeName: ".google.protobuf.Value" });
  add({ name: "list", type: Type.MESSAGE, typeName: ".google.protobuf.ListValue" });
  add({ name: "e", type: Type.ENUM, typeName: `.t${syntax}.Color` });
  add({ name: "es", type: Type.ENUM, typeName: `.t${syntax}.Color`, label: Label.REPEATED });
  add({ name: "self", type: Type.MESSAGE, typeName: `.t${syntax}.All` });
  add({ name: "selves", type: Type.MESSAGE, typeName: `.t${syntax}.All`, label: Label.REPEATED });
  nested.push({ name: "MselfEntry", options: { mapEntry: true } as never, field: [
    { name: "key", number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: "key" },
    { name: "value", number: 2, label: Label.OPTIONAL, type: Type.MESSAGE, typeName: `.t${syntax}.All`, jsonName: "value" },
  ] as FieldDescriptorProto[] });
  add({ name: "m_self", type: Type.MESSAGE, typeName: `.t${syntax}.All.MselfEntry`, label: Label.REPEATED });
  nested.push({ name: "MstructEntry", options: { mapEntry: true } as never, field: [
    { name: "key", number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: "key" },
    { name: "value", number: 2, label: Label.OPTIONAL, type: Type.MESSAGE, typeName: ".google.protobuf.Struct", jsonName: "value" },
  ] as FieldDescriptorProto[] });
  add({ name: "m_struct", type: Type.MESSAGE, typeName: `.t${syntax}.All.MstructEntry`, label: Label.REPEATED });
  add({ name: "big", type: Type.INT64, number: 536870911 });
  // 64-bit integers as strings, singular and repeated.
  for (const type of [Type.INT64, Type.UINT64, Type.SINT64, Type.FIXED64, Type.SFIXED64]) {
    add({ name: `str_${Type[type].toLowerCase()}`, type, options: { jstype: 1 /* JS_STRING */ } as never });
    add({ name: `strs_${Type[type].toLowerCase()}`, type, label: Label.REPEATED, options: { jstype: 1 /* JS_STRING */ } as never });
  }
  if (syntax === "proto2") add({ name: "req", type: Type.STRING, label: Label.REQUIRED });
  const oneofs = [{ name: "choice" }, ...fields.filter((f) => f.proto3Optional).map((f) => ({ name: `_${f.name}` }))];
  const file = create(FileDescriptorProtoSchema, {
    name: `t${syntax}.proto`,
    package: `t${syntax}`,
    syntax,
    dependency: ["google/protobuf/struct.proto", "google/protobuf/wrappers.proto"],
    enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "COLOR_RED", number: 1 }, { name: "COLOR_DEEP", number: -5 }] }],
    messageType: [create(DescriptorProtoSchema, { name: "All", field: fields as FieldDescriptorProto[], nestedType: nested as DescriptorProto[], oneofDecl: oneofs })],
  });
  const wkt = new Map<string, DescFile>([
    ["google/protobuf/struct.proto", file_google_protobuf_struct],
    ["google/protobuf/wrappers.proto", file_google_protobuf_wrappers],
  ]);
  return createFileRegistry(file, (name) => wkt.get(name)).getFile(`t${syntax}.proto`)!;
}

// --- Random messages in protobuf-es's local form.

const texts = ["", "a", "ASCII only", "é", "€uro", "😀 emoji", "lone \ud800 surrogate", "nul\u0000byte", "y".repeat(60), "x".repeat(200), "é".repeat(150)];
const double = () => pick([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, Math.random() * 1e9]);

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
    case ScalarType.BYTES: return new Uint8Array(randomBytes(pick([0, 1, 5, 130, 300])));
  }
}

function json(depth: number): unknown {
  switch (randomInt(depth > 2 ? 4 : 6)) {
    case 0: return null;
    case 1: return double();
    case 2: return pick(texts);
    case 3: return chance(0.5);
    case 4: return Array.from({ length: randomInt(4) }, () => json(depth + 1));
    default: return jsonObject(depth + 1);
  }
}
const jsonObject = (depth: number) => Object.fromEntries(Array.from({ length: randomInt(4) }, () => [pick(texts), json(depth)]));

const random = randomMessages({
  scalar,
  jsonObject,
  mapKey: (type) => (type === ScalarType.STRING ? pick(texts) : type === ScalarType.BOOL ? String(chance(0.5)) : String(int32())),
  listEnumDeclared: 1,
  mapEntries: 4,
  maxDepth: 3,
  set: () => chance(0.7),
});

// --- The schemas.

const wktFiles = [
  file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_timestamp, file_google_protobuf_duration,
  file_google_protobuf_any, file_google_protobuf_type, file_google_protobuf_api, file_google_protobuf_descriptor,
];

let fellBack = 0;

function expectSame(desc: DescMessage, message: Message) {
  let expected: Uint8Array | undefined;
  let error: unknown;
  try {
    expected = toBinary(desc, message);
  } catch (e) {
    error = e;
  }
  if (error !== undefined) {
    // What toBinary refuses, encodeBinary refuses with toBinary's own error.
    expect(() => encodeBinary(desc, message)).toThrow((error as Error).message);
    return;
  }
  const before = calls.toBinary;
  expect(Buffer.from(encodeBinary(desc, message)).equals(Buffer.from(expected!)), desc.typeName).toBe(true);
  fellBack += calls.toBinary - before;
  const framed = encodeBinary(desc, message, 5);
  expect(framed.length).toBe(expected!.length + 5);
  expect(framed.subarray(5).equals(Buffer.from(expected!))).toBe(true);
}

describe("encodeBinary", () => {
  // First in the file, while the scratch buffer is still its first 4 KB. Lists
  // of many one-character strings (each reserving little room), one byte longer
  // each time: the first growth comes with a string's bytes already written at
  // the buffer's very end, and must keep them.
  it("a short string written at the scratch buffer's very end survives its growth", () => {
    fellBack = 0;
    const item = (value: string) => ({ kind: { case: "stringValue" as const, value } });
    for (const [last, bytesPerItem] of [["a", 5], ["é", 6], ["€", 7]] as const) {
      for (let size = 3990; size < 4130; size++) {
        const filler = size % bytesPerItem;
        const values = [item("x".repeat(filler)), ...Array.from({ length: Math.floor(size / bytesPerItem) }, () => item(last))];
        expectSame(ListValueSchema, create(ListValueSchema, { values }));
      }
    }
    expect(fellBack).toBe(0);
  });

  it("writes what toBinary writes for random messages of every API schema", () => {
    const schemas = apiFiles.flatMap(messagesOf);
    expect(schemas.length).toBeGreaterThan(40);
    fellBack = 0;
    for (const desc of schemas) for (let i = 0; i < 60; i++) expectSame(desc, random(desc));
    expect(fellBack).toBe(0);
  });

  it("writes what toBinary writes for the well-known types (proto3 and proto2, packed lists, Struct, wrappers, Any)", () => {
    fellBack = 0;
    for (const desc of wktFiles.flatMap(messagesOf)) for (let i = 0; i < 30; i++) expectSame(desc, random(desc));
    expect(fellBack).toBe(0);
  });

  it("writes what toBinary writes for every field kind, in proto3 and in proto2", () => {
    fellBack = 0;
    for (const syntax of ["proto3", "proto2"] as const) {
      const all = testFile(syntax).messages[0]!;
      expect(all.fields.find((f) => f.name === "str_int64")).toMatchObject({ longAsString: true });
      for (let i = 0; i < 150; i++) {
        const message = random(all);
        if (syntax === "proto2") (message as unknown as Record<string, unknown>).req = pick(texts);
        expectSame(all, message);
      }
    }
    expect(fellBack).toBe(0);
  });

  it("messages past 127 bytes (two-byte length prefixes, nested) and past its scratch buffer", () => {
    const all = testFile("proto3").messages[0]!;
    const large = create(all) as unknown as Record<string, unknown>;
    large.sString = "é".repeat(100_000);
    large.rBytes = [new Uint8Array(randomBytes(5000)), new Uint8Array(200)];
    large.self = { ...create(all), sString: "y".repeat(20_000), struct: { k: "v".repeat(300) } };
    expectSame(all, large as unknown as Message);
    // And a small one right after: nothing of the large one is left in the scratch buffer.
    const small = create(all, { sInt32: 5 } as never);
    fellBack = 0;
    expectSame(all, small);
    expect(fellBack).toBe(0);
  });

  it("a value toBinary refuses (wrong type, out of range, required field missing) fails as toBinary fails", () => {
    const all = testFile("proto3").messages[0]!;
    for (const [field, bad] of [["sInt32", 1.5], ["sUint32", -1], ["sFloat", 1e39], ["sInt64", "not a number"], ["rInt32", [2 ** 40]]] as const) {
      const message = create(all) as unknown as Record<string, unknown>;
      message[field] = bad;
      expect(() => toBinary(all, message as unknown as Message)).toThrow();
      expectSame(all, message as unknown as Message);
    }
    const proto2 = testFile("proto2").messages[0]!;
    expect(() => encodeBinary(proto2, create(proto2))).toThrow(/required field not set/);
  });

  it("values toBinary coerces rather than refuses give its bytes too (left to toBinary)", () => {
    const all = testFile("proto3").messages[0]!;
    for (const [field, odd] of [["sDouble", "1.5"], ["sBool", 1], ["sString", 42], ["struct", { a: undefined, b: 1n }]] as const) {
      const message = create(all) as unknown as Record<string, unknown>;
      message[field] = odd;
      fellBack = 0;
      expectSame(all, message as unknown as Message);
      expect(fellBack, field).toBe(1);
    }
  });
});
