import { ScalarType, toJson, type DescField, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { protoCamelCase, protoSnakeCase } from "@bufbuild/protobuf/reflect";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";

export interface JsonEncodeOptions {
  /** Field names as in the .proto file rather than their JSON names (toJson's option). */
  readonly useProtoFieldName?: boolean;
  /** Implicit-presence fields at their zero value, and empty lists and maps, written too (toJson's option). */
  readonly alwaysEmitImplicit?: boolean;
  /**
   * Top-level message fields written as `null` when the reply leaves them
   * out: appended in this order after the message's own fields, under the
   * name the options choose, unless the object already has that key (or
   * inherits it), as the REST renderer does after toJson.
   */
  readonly nullForUnset?: readonly DescField[];
}

/**
 * encodeJson is `JSON.stringify(toJson(schema, message, options))` for
 * replies: the same string, written directly, without toJson's intermediate
 * object tree (nor its Date for each Timestamp).
 *
 * The field walk mirrors protobuf-es's own compiled JSON writer (fields by
 * number, presence, oneofs, enum names with unknown numbers as numbers,
 * 64-bit integers and bytes as strings, NaN and the infinities as strings,
 * maps with their keys as they are, Struct fields held as JSON, unwrapped
 * wrapper fields, Timestamp, Duration, FieldMask, Struct, Value, ListValue,
 * wrappers and an empty Any); strings go through JSON.stringify, numbers are
 * written as JSON.stringify writes them. A test holds it equal to toJson
 * over random messages. Anything it is not sure of (a value of the wrong
 * type, a Timestamp out of range, an Any with a type, field names that a JS
 * object would reorder) makes it hand the whole message to toJson, which
 * then renders it or throws its own error. Unknown fields and extensions
 * are left out, as toJson leaves them without a registry.
 */
export function encodeJson(schema: DescMessage, message: Message, options?: JsonEncodeOptions): string {
  const useProtoFieldName = options?.useProtoFieldName === true;
  const alwaysEmitImplicit = options?.alwaysEmitImplicit === true;
  const nullForUnset = options?.nullForUnset;
  const mode = (useProtoFieldName ? PROTO_NAMES : 0) | (alwaysEmitImplicit ? ALWAYS_EMIT : 0);
  try {
    const plan = planOf(schema, mode);
    if (nullForUnset === undefined || nullForUnset.length === 0) return plan.write(message as unknown as Local);
    if (plan.fields === undefined) fail(); // a well-known type: not an object with fields
    return withNulls(plan, message as unknown as Local, nullForUnset, useProtoFieldName);
  } catch {
    // `unsure`, or a value whose shape is wrong (a list that is no array): toJson's to judge.
    return reference(schema, message, useProtoFieldName, alwaysEmitImplicit, nullForUnset);
  }
}

/** What encodeJson stands for, used for whatever it leaves to toJson. */
function reference(
  schema: DescMessage,
  message: Message,
  useProtoFieldName: boolean,
  alwaysEmitImplicit: boolean,
  nullForUnset: readonly DescField[] | undefined,
): string {
  const json = toJson(schema, message, { useProtoFieldName, alwaysEmitImplicit });
  if (nullForUnset !== undefined && nullForUnset.length > 0 && typeof json === "object" && json !== null && !Array.isArray(json)) {
    for (const field of nullForUnset) {
      const key = useProtoFieldName ? field.name : field.jsonName;
      if (!(key in json)) json[key] = null;
    }
  }
  return JSON.stringify(json);
}

type Local = Record<string, unknown>;
/** Renders a value as JSON text. */
type Render = (value: unknown) => string;
/** Renders a field as `"key":value`, or "" when the field is left out. */
type RenderField = (message: Local) => string;

interface Plan {
  write: (message: Local) => string;
  /** For a message with fields of its own (not a well-known type's JSON form): its field writers, by number. */
  fields?: RenderField[];
  /** The keys those fields are written under, in the same order. */
  keys?: string[];
  /** False when toJson's object would not keep those keys in that order (see planOf). */
  plain: boolean;
  typeName: string;
}

const PROTO_NAMES = 1;
const ALWAYS_EMIT = 2;

// Thrown (caught in encodeJson) when the message should go to toJson.
const unsure = new Error("encodeJson: left to toJson");
const fail = (): never => {
  throw unsure;
};

// google.protobuf.FeatureSet.FieldPresence
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

const timestampMsMin = Date.parse("0001-01-01T00:00:00Z");
const timestampMsMax = Date.parse("9999-12-31T23:59:59Z");
const durationSecondsMax = 315576000000;
const durationSecondsMin = -315576000000;

/** A key a JS object puts before all others (an array index), which would reorder toJson's object. */
const isArrayIndex = (key: string) => /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;

/** A number as JSON.stringify writes it. */
const number = (v: number) => (Number.isFinite(v) ? "" + v : "null");

const compiled = new WeakMap<DescMessage, (Plan | undefined)[]>();

function planOf(desc: DescMessage, mode: number): Plan {
  let plans = compiled.get(desc);
  if (plans === undefined) compiled.set(desc, (plans = []));
  let plan = plans[mode];
  if (plan !== undefined) return plan;
  const typeName = desc.typeName;
  const wkt = wktRender(desc);
  if (wkt !== undefined) {
    plan = {
      typeName,
      plain: true,
      write: (message) => (message.$typeName === typeName ? wkt(message) : fail()),
    };
    plans[mode] = plan;
    return plan;
  }
  const fields: RenderField[] = [];
  const sorted = [...desc.fields].sort((a, b) => a.number - b.number);
  const keys = sorted.map((field) => (mode & PROTO_NAMES ? field.name : field.jsonName));
  // Keys a JS object would reorder, or one key twice: toJson's object is not ours to guess.
  const plain = new Set(keys).size === keys.length && !keys.some(isArrayIndex);
  plan = {
    typeName,
    fields,
    keys,
    plain,
    write: (message) => {
      if (message.$typeName !== typeName || !plain) fail();
      let out = "";
      for (let i = 0; i < fields.length; i++) {
        const part = fields[i]!(message);
        if (part !== "") out = out === "" ? part : out + "," + part;
      }
      return "{" + out + "}";
    },
  };
  // Registered before its fields compile, so a recursive type finds itself.
  plans[mode] = plan;
  try {
    for (const field of sorted) fields.push(fieldRender(field, mode));
  } catch (e) {
    plans[mode] = undefined; // never a plan missing fields
    throw e;
  }
  return plan;
}

/** The top-level message with its fields, then `null` for each field of nullForUnset left out. */
function withNulls(plan: Plan, message: Local, nullForUnset: readonly DescField[], useProtoFieldName: boolean): string {
  const fields = plan.fields!;
  const keys = plan.keys!;
  if (message.$typeName !== plan.typeName || !plan.plain) fail();
  let out = "";
  const written: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const part = fields[i]!(message);
    if (part === "") continue;
    out = out === "" ? part : out + "," + part;
    written.push(keys[i]!);
  }
  for (const field of nullForUnset) {
    const key = useProtoFieldName ? field.name : field.jsonName;
    // `key in json`: an own key, or one every object inherits ("constructor", "__proto__").
    if (written.includes(key) || key in emptyObject) continue;
    if (isArrayIndex(key)) fail();
    written.push(key);
    const part = JSON.stringify(key) + ":null";
    out = out === "" ? part : out + "," + part;
  }
  return "{" + out + "}";
}
const emptyObject = {};

function fieldRender(field: DescField, mode: number): RenderField {
  const name = field.localName;
  const key = JSON.stringify(mode & PROTO_NAMES ? field.name : field.jsonName) + ":";
  const always = (mode & ALWAYS_EMIT) !== 0;
  switch (field.fieldKind) {
    case "list": {
      const renderItem: Render =
        field.listKind === "message" ? messageValueRender(field, mode, false)
        : field.listKind === "enum" ? enumRender(field)
        : scalarRender(field.scalar);
      return (m) => {
        const items = m[name];
        if (!Array.isArray(items)) fail();
        const list = items as unknown[];
        if (list.length === 0) return always ? key + "[]" : "";
        let out = key + "[" + renderItem(list[0]);
        for (let i = 1; i < list.length; i++) out += "," + renderItem(list[i]);
        return out + "]";
      };
    }
    case "map": {
      const renderValue: Render =
        field.mapKind === "message" ? messageValueRender(field, mode, false)
        : field.mapKind === "enum" ? enumRender(field)
        : scalarRender(field.scalar);
      return (m) => {
        const record = m[name];
        if (typeof record !== "object" || record === null) fail();
        // Its keys as they are, in the object's own order (which toJson's copy keeps).
        const keys = Object.keys(record as object);
        if (keys.length === 0) return always ? key + "{}" : "";
        let out = "";
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          out += (i === 0 ? "" : ",") + JSON.stringify(k) + ":" + renderValue((record as Local)[k]);
        }
        return key + "{" + out + "}";
      };
    }
  }
  const render: Render =
    field.fieldKind === "message" ? messageValueRender(field, mode, true)
    : field.fieldKind === "enum" ? enumRender(field)
    : scalarRender(field.scalar);
  if (field.oneof) {
    const group = field.oneof.localName;
    return (m) => {
      const oneof = m[group] as { case: string | undefined; value?: unknown };
      return oneof.case === name ? key + render(oneof.value) : "";
    };
  }
  if (field.presence !== IMPLICIT) {
    const required = field.presence === LEGACY_REQUIRED;
    return (m) => {
      const value = m[name];
      // Explicit presence: set when the message has it as its own property.
      if (value !== undefined && Object.prototype.hasOwnProperty.call(m, name)) return key + render(value);
      return required ? fail() : "";
    };
  }
  if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]!.number;
    return (m) => {
      const value = m[name];
      return value !== zero || always ? key + render(value) : "";
    };
  }
  // (A message field always has explicit presence.)
  if (field.fieldKind === "message") return fail;
  // Left out at the zero value, tested as toJson tests it.
  const isZero: (v: unknown) => boolean =
    always ? () => false
    : field.scalar === ScalarType.BOOL ? (v) => v === false
    : field.scalar === ScalarType.STRING ? (v) => v === ""
    : field.scalar === ScalarType.BYTES ? (v) => v instanceof Uint8Array && v.byteLength === 0
    : field.scalar === ScalarType.DOUBLE || field.scalar === ScalarType.FLOAT ? (v) => Object.is(v, 0)
    // Loose, as toJson's: 0n, 0 and "0" are all zero.
    : (v) => v == 0;
  return (m) => {
    const value = m[name];
    return isZero(value) ? "" : key + render(value);
  };
}

/**
 * Renders a message value from its local form: a JSON object for a Struct
 * (but inside a Value), the wrapped value for a singular wrapper field
 * outside a oneof, else the message.
 */
function messageValueRender(field: DescField & { message: DescMessage }, mode: number, unwrap: boolean): Render {
  if (field.message.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") {
    return (value) => jsonObject(value, 0);
  }
  if (unwrap && !field.oneof && isWrapperDesc(field.message)) {
    return scalarRender(field.message.fields[0]!.scalar!);
  }
  const child = field.message;
  let write: ((message: Local) => string) | undefined;
  // (An undefined value toJson writes as the default message: left to it.)
  return (v) => (write ??= planOf(child, mode).write)(v === undefined ? fail() : (v as Local));
}

function enumRender(field: DescField & { enum: NonNullable<DescField["enum"]> }): Render {
  const desc = field.enum;
  if (desc.typeName === "google.protobuf.NullValue") return (v) => (typeof v === "number" ? "null" : fail());
  const names = new Map<number, string>();
  // (The first name of an aliased number, as toJson's lookup.)
  for (const value of desc.values) if (!names.has(value.number)) names.set(value.number, JSON.stringify(value.jsonName));
  // An unknown number is written as the number.
  return (v) => (typeof v === "number" ? (names.get(v) ?? number(v)) : fail());
}

/** The renderer of a bare scalar value. */
function scalarRender(type: ScalarType): Render {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.UINT32:
      return (v) => (typeof v === "number" ? number(v) : fail());
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return (v) => {
        if (typeof v !== "number") fail();
        const n = v as number;
        if (Number.isFinite(n)) return "" + n;
        return n === Infinity ? '"Infinity"' : n === -Infinity ? '"-Infinity"' : '"NaN"';
      };
    case ScalarType.STRING:
      return (v) => (typeof v === "string" ? JSON.stringify(v) : fail());
    case ScalarType.BOOL:
      return (v) => (v === true ? "true" : v === false ? "false" : fail());
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return int64;
    case ScalarType.BYTES:
      return (v) => {
        if (!(v instanceof Uint8Array)) fail();
        const bytes = v as Uint8Array;
        return '"' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") + '"';
      };
  }
}

/** A 64-bit integer, as a decimal string. */
function int64(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return '"' + v + '"';
    case "string":
      return JSON.stringify(v);
    case "number":
      // (Digits, maybe a sign and an exponent: nothing to escape.)
      if (Number.isInteger(v)) return '"' + v + '"';
  }
  return fail();
}

// --- Well-known types with a JSON form of their own.

function wktRender(desc: DescMessage): ((message: Local) => string) | undefined {
  if (!desc.typeName.startsWith("google.protobuf.")) return undefined;
  switch (desc.typeName) {
    case "google.protobuf.Any":
      // Only the empty Any is written without a registry (anything else, toJson refuses).
      return (m) => (m.typeUrl === "" ? "{}" : fail());
    case "google.protobuf.Timestamp":
      return timestamp;
    case "google.protobuf.Duration":
      return duration;
    case "google.protobuf.FieldMask":
      return fieldMask;
    case "google.protobuf.Struct":
      return structMessage;
    case "google.protobuf.Value":
      return valueMessage;
    case "google.protobuf.ListValue":
      return listValueMessage;
  }
  if (!isWrapperDesc(desc)) return undefined;
  const inner = desc.fields[0]!;
  const localName = inner.localName;
  const render = scalarRender(inner.scalar!);
  const zero = render(
    inner.scalar === ScalarType.BOOL ? false
    : inner.scalar === ScalarType.STRING ? ""
    : inner.scalar === ScalarType.BYTES ? new Uint8Array(0)
    : 0,
  );
  return (m) => {
    const value = m[localName];
    return value === undefined ? zero : render(value);
  };
}

const pad2 = (n: number) => (n < 10 ? "0" + n : "" + n);

// The date part of the last day written, kept: replies written together mostly share it.
let lastDay = NaN;
let lastDate = "";

/** RFC 3339 in UTC, as toJson writes it (Date's toISOString, with 0, 3, 6 or 9 fractional digits). */
function timestamp(m: Local): string {
  const seconds = m.seconds;
  const nanos = m.nanos;
  const s = typeof seconds === "bigint" ? Number(seconds) : typeof seconds === "number" && Number.isInteger(seconds) ? seconds : NaN;
  // Out of range or not an integer (NaN fails both tests): toJson throws or has its own say.
  if (!(s * 1000 >= timestampMsMin && s * 1000 <= timestampMsMax)) fail();
  if (typeof nanos !== "number" || !Number.isInteger(nanos) || nanos < 0 || nanos > 999999999) fail();
  const day = Math.floor(s / 86400);
  let time = s - day * 86400;
  if (day !== lastDay) {
    lastDate = civilDate(day);
    lastDay = day;
  }
  const hour = Math.floor(time / 3600);
  time -= hour * 3600;
  const minute = Math.floor(time / 60);
  let text = '"' + lastDate + "T" + pad2(hour) + ":" + pad2(minute) + ":" + pad2(time - minute * 60);
  if (nanos === 0) return text + 'Z"';
  const digits = ("" + ((nanos as number) + 1000000000)).substring(1);
  if (digits.endsWith("000000")) text += "." + digits.substring(0, 3);
  else if (digits.endsWith("000")) text += "." + digits.substring(0, 6);
  else text += "." + digits;
  return text + 'Z"';
}

/** YYYY-MM-DD of a day since 1970-01-01, years 1 to 9999 (H. Hinnant's civil_from_days). */
function civilDate(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return ("000" + year).slice(-4) + "-" + pad2(month) + "-" + pad2(day);
}

/** As toJson writes a Duration: seconds, then 0, 3, 6 or 9 fractional digits, then "s". */
function duration(m: Local): string {
  const seconds = m.seconds;
  const nanos = m.nanos;
  if (typeof seconds !== "bigint") fail();
  const s = Number(seconds);
  if (s > durationSecondsMax || s < durationSecondsMin) fail();
  if (typeof nanos !== "number" || !Number.isInteger(nanos) || nanos > 999999999 || nanos < -999999999) fail();
  const n = nanos as number;
  if ((s > 0 && n < 0) || (s < 0 && n > 0)) fail();
  let text = (seconds as bigint).toString();
  if (n !== 0) {
    let digits = Math.abs(n).toString();
    digits = "0".repeat(9 - digits.length) + digits;
    if (digits.substring(3) === "000000") digits = digits.substring(0, 3);
    else if (digits.substring(6) === "000") digits = digits.substring(0, 6);
    text += "." + digits;
    if (n < 0 && s == 0) text = "-" + text;
  }
  return '"' + text + 's"';
}

function fieldMask(m: Local): string {
  const paths = m.paths;
  if (!Array.isArray(paths)) fail();
  let out = "";
  for (let i = 0; i < (paths as unknown[]).length; i++) {
    const path = (paths as unknown[])[i];
    if (typeof path !== "string") fail();
    const camel = protoCamelCase(path as string);
    // A path whose lowerCamelCase is irreversible: toJson throws.
    if (protoSnakeCase(camel) !== path) fail();
    out += (i === 0 ? "" : ",") + camel;
  }
  return JSON.stringify(out);
}

/** A google.protobuf.Struct message (inside a Value, or on its own). */
function structMessage(m: Local): string {
  const fields = m.fields as Record<string, unknown>;
  if (typeof fields !== "object" || fields === null) fail();
  const keys = Object.keys(fields);
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i === 0 ? "" : ",") + JSON.stringify(k) + ":" + valueMessage(fields[k] as Local);
  }
  return "{" + out + "}";
}

function valueMessage(m: Local): string {
  const kind = m.kind as { case: string | undefined; value?: unknown };
  const v = kind.value;
  switch (kind.case) {
    case "nullValue":
      return "null";
    case "numberValue":
      // NaN and the infinities: toJson throws.
      return typeof v === "number" && Number.isFinite(v) ? "" + v : fail();
    case "boolValue":
      return v === true ? "true" : v === false ? "false" : fail();
    case "stringValue":
      return typeof v === "string" ? JSON.stringify(v) : fail();
    case "structValue":
      return structMessage(v as Local);
    case "listValue":
      return listValueMessage(v as Local);
  }
  return fail();
}

function listValueMessage(m: Local): string {
  const values = m.values;
  if (!Array.isArray(values)) fail();
  let out = "";
  for (let i = 0; i < (values as unknown[]).length; i++) out += (i === 0 ? "" : ",") + valueMessage((values as Local[])[i]!);
  return "[" + out + "]";
}

/**
 * A Struct field's value, held as a JSON object: toJson turns it into a
 * Struct and writes that, so what a Struct cannot hold (undefined, a bigint,
 * NaN) makes it throw; anything that is no object is an empty Struct.
 */
function jsonObject(json: unknown, depth: number): string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "{}";
  // Deeper than any real profile: toJson's to write, or to overflow its stack on, as it always did.
  if (depth > maxJsonDepth) fail();
  // Plain JSON through and through (the usual case): JSON.stringify writes just that, natively.
  if (isPlainJson(json, 0)) return JSON.stringify(json);
  const keys = Object.keys(json);
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i === 0 ? "" : ",") + JSON.stringify(k) + ":" + jsonValue((json as Record<string, unknown>)[k], depth + 1);
  }
  return "{" + out + "}";
}

function jsonValue(json: unknown, depth: number): string {
  switch (typeof json) {
    case "number":
      return Number.isFinite(json) ? "" + json : fail();
    case "string":
      return JSON.stringify(json);
    case "boolean":
      return json ? "true" : "false";
    case "object": {
      if (json === null) return "null";
      if (!Array.isArray(json)) return jsonObject(json, depth);
      // toJson walks a list with for…of: an iterator of its own is its to follow.
      if (depth > maxJsonDepth || Object.prototype.hasOwnProperty.call(json, Symbol.iterator)) fail();
      let out = "";
      for (let i = 0; i < json.length; i++) out += (i === 0 ? "" : ",") + jsonValue((json as JsonValue[])[i], depth + 1);
      return "[" + out + "]";
    }
  }
  return fail(); // undefined, a bigint, a function: toJson decides
}

/**
 * Whether JSON.stringify writes this value as toJson writes its Struct: only
 * finite numbers, strings, booleans, null, dense arrays and objects that are
 * plain (their prototype Object's or none, so no toJSON of their own to
 * call), not nested too deep. Anything else is written piece by piece.
 */
const maxJsonDepth = 100;

function isPlainJson(json: unknown, depth: number): boolean {
  switch (typeof json) {
    case "number":
      return Number.isFinite(json);
    case "string":
    case "boolean":
      return true;
    case "object": {
      if (json === null) return true;
      if (depth > 32) return false;
      // JSON.stringify would call a toJSON (even one not enumerable) and follow no iterator; toJson the reverse.
      if (Object.prototype.hasOwnProperty.call(json, "toJSON") || Object.prototype.hasOwnProperty.call(json, Symbol.iterator)) return false;
      const proto = Object.getPrototypeOf(json);
      if (Array.isArray(json)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < json.length; i++) if (!isPlainJson((json as unknown[])[i], depth + 1)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const keys = Object.keys(json);
      for (let i = 0; i < keys.length; i++) if (!isPlainJson((json as Record<string, unknown>)[keys[i]!], depth + 1)) return false;
      return true;
    }
  }
  return false;
}
