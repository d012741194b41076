import { protoInt64, ScalarType, toBinary, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";

/**
 * encodeBinary is `toBinary` for replies: the same bytes, written into one
 * scratch buffer reused by every call and copied once into a pooled Buffer
 * with `headroom` spare bytes in front (a gRPC frame's prefix goes there).
 *
 * Why: `toBinary` allocates two typed arrays per message (its writer's buffer
 * and the result), both above V8's on-heap size, so each is an ArrayBuffer
 * with an external backing store; those cost more than the rest of the
 * encoding, mostly in GC, on every gRPC reply. The field walk mirrors
 * protobuf-es's own compiled writer (presence, oneofs, packed lists, maps,
 * the JSON and unwrapped forms of Struct and wrapper fields, unknown
 * fields); a test holds it byte-equal to `toBinary` over random messages.
 * Anything it is not sure of (a value of the wrong type or out of range, a
 * missing required field, a delimited field) makes it hand the message to
 * `toBinary`, which then encodes it or throws its own error.
 */
export function encodeBinary(schema: DescMessage, message: Message, headroom = 0): Buffer {
  w.pos = 0;
  w.depth = 0;
  try {
    writerOf(schema)(message as unknown as Local);
  } catch {
    // `unsure`, or a value whose shape is wrong (a list that is no array): toBinary's to judge.
    const bytes = toBinary(schema, message);
    const out = Buffer.allocUnsafe(headroom + bytes.length);
    out.set(bytes, headroom);
    return out;
  }
  const out = Buffer.allocUnsafe(headroom + w.pos);
  w.buf.copy(out, headroom, 0, w.pos);
  return out;
}

type Local = Record<string, unknown>;
type Write = (value: unknown) => void;

// Thrown (caught in encodeBinary) when the message should go to toBinary.
const unsure = new Error("encodeBinary: left to toBinary");
const fail = (): never => {
  throw unsure;
};

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;
const FLOAT32_MAX = 3.4028234663852886e38;
const LENGTH_DELIMITED = 2;
const wireTypes: Partial<Record<ScalarType, number>> = {
  [ScalarType.DOUBLE]: 1,
  [ScalarType.FIXED64]: 1,
  [ScalarType.SFIXED64]: 1,
  [ScalarType.FLOAT]: 5,
  [ScalarType.FIXED32]: 5,
  [ScalarType.SFIXED32]: 5,
  [ScalarType.STRING]: LENGTH_DELIMITED,
  [ScalarType.BYTES]: LENGTH_DELIMITED,
};
const wireTypeOf = (type: ScalarType) => wireTypes[type] ?? 0;

/** The scratch writer: one buffer, grown when a reply needs more, never shrunk. */
const w = {
  buf: Buffer.allocUnsafe(4096),
  pos: 0,
  // Nested length prefixes still open (their start positions).
  stack: [] as number[],
  depth: 0,
};

function room(bytes: number) {
  if (w.pos + bytes <= w.buf.length) return;
  const grown = Buffer.allocUnsafe(Math.max(w.buf.length * 2, w.pos + bytes));
  w.buf.copy(grown, 0, 0, w.pos);
  w.buf = grown;
}

function uint32(value: number) {
  room(5);
  while (value > 0x7f) {
    w.buf[w.pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  w.buf[w.pos++] = value;
}

function varint64(lo: number, hi: number) {
  room(10);
  lo >>>= 0;
  hi >>>= 0;
  while (hi !== 0 || lo > 0x7f) {
    w.buf[w.pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  w.buf[w.pos++] = lo;
}

const tag = (fieldNo: number, wireType: number) => uint32(((fieldNo << 3) | wireType) >>> 0);

/** The bytes of a uint32 varint. */
function varintSize(value: number) {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
}

function fork() {
  room(1);
  w.stack[w.depth++] = w.pos;
  w.pos += 1; // one byte of length prefix, enough below 128 bytes
}

function join() {
  const start = w.stack[--w.depth]!;
  const length = w.pos - start - 1;
  if (length < 0x80) {
    w.buf[start] = length;
    return;
  }
  const prefix = varintSize(length);
  room(prefix - 1);
  w.buf.copy(w.buf, start + prefix, start + 1, w.pos);
  w.pos = start;
  uint32(length);
  w.pos += length;
}

const isInt32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v <= INT32_MAX && v >= INT32_MIN;
const isUint32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v <= UINT32_MAX && v >= 0;
const enc64 = (v: unknown, unsigned: boolean) => {
  if (typeof v !== "bigint" && typeof v !== "string" && typeof v !== "number") fail();
  try {
    return unsigned ? protoInt64.uEnc(v as bigint) : protoInt64.enc(v as bigint);
  } catch {
    return fail();
  }
};

/** The writer of a bare scalar value (no tag). */
function scalarWriter(type: ScalarType): Write {
  switch (type) {
    case ScalarType.STRING:
      return (v) => {
        if (typeof v !== "string") fail();
        const text = v as string;
        // A UTF-16 unit is at most 3 UTF-8 bytes: room for the worst case, prefix guessed from that.
        const most = text.length * 3;
        const prefix = varintSize(most);
        // (+ 5: the length is written after the text, which must not be lost to a growth then.)
        room(prefix + most + 5);
        const written = w.buf.write(text, w.pos + prefix, "utf8");
        const actual = varintSize(written);
        if (actual !== prefix) w.buf.copy(w.buf, w.pos + actual, w.pos + prefix, w.pos + prefix + written);
        uint32(written);
        w.pos += written;
      };
    case ScalarType.BYTES:
      return (v) => {
        if (!(v instanceof Uint8Array)) fail();
        const bytes = v as Uint8Array;
        uint32(bytes.byteLength);
        room(bytes.byteLength);
        w.buf.set(bytes, w.pos);
        w.pos += bytes.byteLength;
      };
    case ScalarType.BOOL:
      return (v) => {
        if (typeof v !== "boolean") fail();
        room(1);
        w.buf[w.pos++] = v ? 1 : 0;
      };
    case ScalarType.INT32:
      return (v) => {
        if (!isInt32(v)) fail();
        if ((v as number) >= 0) uint32(v as number);
        else varint64(v as number, -1); // sign-extended: ten bytes
      };
    case ScalarType.UINT32:
      return (v) => (isUint32(v) ? uint32(v) : fail());
    case ScalarType.SINT32:
      return (v) => (isInt32(v) ? uint32(((v << 1) ^ (v >> 31)) >>> 0) : fail());
    case ScalarType.FIXED32:
      return (v) => {
        if (!isUint32(v)) fail();
        room(4);
        w.pos = w.buf.writeUInt32LE(v as number, w.pos);
      };
    case ScalarType.SFIXED32:
      return (v) => {
        if (!isInt32(v)) fail();
        room(4);
        w.pos = w.buf.writeInt32LE(v as number, w.pos);
      };
    case ScalarType.FLOAT:
      return (v) => {
        if (typeof v !== "number" || (Number.isFinite(v) && Math.abs(v) > FLOAT32_MAX)) fail();
        room(4);
        w.pos = w.buf.writeFloatLE(v as number, w.pos);
      };
    case ScalarType.DOUBLE:
      return (v) => {
        if (typeof v !== "number") fail();
        room(8);
        w.pos = w.buf.writeDoubleLE(v as number, w.pos);
      };
    case ScalarType.INT64:
      return (v) => {
        const { lo, hi } = enc64(v, false);
        varint64(lo, hi);
      };
    case ScalarType.UINT64:
      return (v) => {
        const { lo, hi } = enc64(v, true);
        varint64(lo, hi);
      };
    case ScalarType.SINT64:
      return (v) => {
        const { lo, hi } = enc64(v, false);
        const sign = hi >> 31;
        varint64((lo << 1) ^ sign, ((hi << 1) | (lo >>> 31)) ^ sign);
      };
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return (v) => {
        const { lo, hi } = enc64(v, type === ScalarType.FIXED64);
        room(8);
        w.buf.writeInt32LE(lo, w.pos);
        w.pos = w.buf.writeInt32LE(hi, w.pos + 4);
      };
  }
}

const compiled = new WeakMap<DescMessage, (message: Local) => void>();

function writerOf(desc: DescMessage): (message: Local) => void {
  let write = compiled.get(desc);
  if (write) return write;
  const typeName = desc.typeName;
  const fields: ((message: Local) => void)[] = [];
  write = (message) => {
    if (message.$typeName !== typeName) fail();
    for (let i = 0; i < fields.length; i++) fields[i]!(message);
    const unknown = message.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
    if (unknown !== undefined) {
      for (const { no, wireType, data } of unknown) {
        tag(no, wireType);
        room(data.byteLength);
        w.buf.set(data, w.pos);
        w.pos += data.byteLength;
      }
    }
  };
  // Registered before its fields compile, so a recursive type finds itself.
  compiled.set(desc, write);
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) fields.push(fieldWriter(field));
  return write;
}

/**
 * Writes a message value (tag, length, body) from its local form: a JSON
 * object for a Struct (but inside a Value), the wrapped value for a singular
 * wrapper field outside a oneof, else the message.
 */
function messageValueWriter(fieldNo: number, field: DescField & { message: DescMessage }, unwrap: boolean): Write {
  if (field.message.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") {
    // A Struct field holds a JSON object.
    return (v) => {
      tag(fieldNo, LENGTH_DELIMITED);
      fork();
      jsonStruct(v);
      join();
    };
  }
  if (unwrap && !field.oneof && isWrapperDesc(field.message)) {
    // A wrapper field holds the wrapped value itself.
    const inner = field.message.fields[0]!;
    const writeInner = implicitScalar(inner.number, inner.scalar!);
    return (v) => {
      tag(fieldNo, LENGTH_DELIMITED);
      fork();
      writeInner(v);
      join();
    };
  }
  const child = field.message;
  return (v) => {
    tag(fieldNo, LENGTH_DELIMITED);
    fork();
    writerOf(child)(v === undefined ? fail() : (v as Local));
    join();
  };
}

function fieldWriter(field: DescField): (message: Local) => void {
  const name = field.localName;
  const fieldNo = field.number;
  if ((field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) && field.delimitedEncoding) {
    return () => fail();
  }
  switch (field.fieldKind) {
    case "list": {
      if (field.listKind === "message") {
        const writeItem = messageValueWriter(fieldNo, field, false);
        return (m) => {
          const items = m[name] as unknown[];
          for (let i = 0; i < items.length; i++) writeItem(items[i]);
        };
      }
      const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      const writeItem = scalarWriter(type);
      if (field.packed) {
        return (m) => {
          const items = m[name] as unknown[];
          if (items.length === 0) return;
          tag(fieldNo, LENGTH_DELIMITED);
          fork();
          for (let i = 0; i < items.length; i++) writeItem(items[i]);
          join();
        };
      }
      const wireType = wireTypeOf(type);
      return (m) => {
        const items = m[name] as unknown[];
        for (let i = 0; i < items.length; i++) {
          tag(fieldNo, wireType);
          writeItem(items[i]);
        }
      };
    }
    case "map": {
      // Keys other than strings go to toBinary (this API has none).
      if (field.mapKey !== ScalarType.STRING) return () => fail();
      const writeKey = scalarWriter(ScalarType.STRING);
      let writeValue: Write;
      if (field.mapKind === "message") {
        // The value of a map entry is field 2.
        writeValue = messageValueWriter(2, field, false);
      } else {
        const type = field.mapKind === "enum" ? ScalarType.INT32 : field.scalar;
        const write = scalarWriter(type);
        const wireType = wireTypeOf(type);
        writeValue = (v) => {
          tag(2, wireType);
          write(v);
        };
      }
      return (m) => {
        const record = m[name] as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          tag(fieldNo, LENGTH_DELIMITED);
          fork();
          tag(1, LENGTH_DELIMITED);
          writeKey(key);
          writeValue(record[key]);
          join();
        }
      };
    }
    default:
      return singularWriter(field);
  }
}

function singularWriter(field: DescField & { fieldKind: "scalar" | "enum" | "message" }): (message: Local) => void {
  const name = field.localName;
  const fieldNo = field.number;
  let writeValue: Write;
  if (field.fieldKind === "message") {
    writeValue = messageValueWriter(fieldNo, field, true);
  } else {
    const type = field.fieldKind === "enum" ? ScalarType.INT32 : field.scalar;
    const write = scalarWriter(type);
    const wireType = wireTypeOf(type);
    writeValue = (v) => {
      tag(fieldNo, wireType);
      write(v);
    };
  }
  if (field.oneof) {
    const group = field.oneof.localName;
    return (m) => {
      const oneof = m[group] as { case: string | undefined; value?: unknown };
      if (oneof.case === name) writeValue(oneof.value);
    };
  }
  if (field.presence !== IMPLICIT) {
    const required = field.presence === LEGACY_REQUIRED;
    return (m) => {
      const value = m[name];
      // Explicit presence: set when the message has it as its own property.
      if (value !== undefined && Object.prototype.hasOwnProperty.call(m, name)) writeValue(value);
      else if (required) fail();
    };
  }
  if (field.fieldKind === "enum") {
    const zero = field.enum.values[0]!.number;
    return (m) => {
      const value = m[name];
      if (value !== zero) writeValue(value);
    };
  }
  // (A message field always has explicit presence.)
  if (field.fieldKind === "message") return () => fail();
  return implicitScalar(fieldNo, field.scalar, (m) => m[name]);
}

// google.protobuf.FeatureSet.FieldPresence
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

/** Writes a scalar with implicit presence: left out at its zero value, as toBinary does. */
function implicitScalar(fieldNo: number, type: ScalarType): Write;
function implicitScalar(fieldNo: number, type: ScalarType, read: (m: Local) => unknown): (m: Local) => void;
function implicitScalar(fieldNo: number, type: ScalarType, read: (m: never) => unknown = (v) => v): (m: never) => void {
  const write = scalarWriter(type);
  const wireType = wireTypeOf(type);
  const isZero: (v: unknown) => boolean =
    type === ScalarType.BOOL ? (v) => v === false
    : type === ScalarType.STRING ? (v) => v === ""
    : type === ScalarType.BYTES ? (v) => v instanceof Uint8Array && v.byteLength === 0
    : type === ScalarType.DOUBLE || type === ScalarType.FLOAT ? (v) => Object.is(v, 0)
    // Loose, as toBinary's: 0n, 0 and "0" are all zero.
    : (v) => v == 0;
  return (m) => {
    const value = read(m);
    if (isZero(value)) return;
    tag(fieldNo, wireType);
    write(value);
  };
}

// google.protobuf.Struct, Value and ListValue from a JSON value, as protobuf-es maps them.
const writeString = scalarWriter(ScalarType.STRING);
const writeDouble = scalarWriter(ScalarType.DOUBLE);
const writeBool = scalarWriter(ScalarType.BOOL);

function jsonStruct(json: unknown) {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return;
  const object = json as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    tag(1, LENGTH_DELIMITED); // Struct.fields entry
    fork();
    tag(1, LENGTH_DELIMITED);
    writeString(key);
    tag(2, LENGTH_DELIMITED);
    fork();
    jsonValue(object[key]);
    join();
    join();
  }
}

function jsonValue(json: unknown) {
  switch (typeof json) {
    case "number":
      tag(2, 1);
      writeDouble(json);
      return;
    case "string":
      tag(3, LENGTH_DELIMITED);
      writeString(json);
      return;
    case "boolean":
      tag(4, 0);
      writeBool(json);
      return;
    case "object":
      if (json === null) {
        tag(1, 0);
        uint32(0);
      } else if (Array.isArray(json)) {
        tag(6, LENGTH_DELIMITED);
        fork();
        for (const item of json) {
          tag(1, LENGTH_DELIMITED);
          fork();
          jsonValue(item);
          join();
        }
        join();
      } else {
        tag(5, LENGTH_DELIMITED);
        fork();
        jsonStruct(json);
        join();
      }
      return;
    default:
      fail(); // undefined, bigint, a function: toBinary decides
  }
}
