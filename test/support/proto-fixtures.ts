// What the encoder tests (binary-encoder, json-encoder) share: the API's
// schema files, the scalar and wrapper kinds their hand-built test files
// cover, and random values of the kinds every encoding must get right.
import { randomBytes, randomInt } from "node:crypto";
import type { DescFile, DescMessage } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Type as Type } from "@bufbuild/protobuf/wkt";
import { file_sessionstorage_v1_auth_status_service } from "../../gen/sessionstorage/v1/auth_status_service_pb.js";
import { file_sessionstorage_v1_client_sessions_service } from "../../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { file_sessionstorage_v1_cookie_session_service } from "../../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { file_sessionstorage_v1_jwks_service } from "../../gen/sessionstorage/v1/jwks_service_pb.js";
import { file_sessionstorage_v1_rest } from "../../gen/sessionstorage/v1/rest_pb.js";
import { file_sessionstorage_v1_session_events_service } from "../../gen/sessionstorage/v1/session_events_service_pb.js";
import { file_sessionstorage_v1_session_storage_service } from "../../gen/sessionstorage/v1/session_storage_service_pb.js";
import { file_sessionstorage_v1_sessions_service } from "../../gen/sessionstorage/v1/sessions_service_pb.js";
import { file_sessionstorage_v1_sign_out_service } from "../../gen/sessionstorage/v1/sign_out_service_pb.js";

/** Every file of the API's schema. */
export const apiFiles: readonly DescFile[] = [
  file_sessionstorage_v1_auth_status_service, file_sessionstorage_v1_client_sessions_service, file_sessionstorage_v1_cookie_session_service,
  file_sessionstorage_v1_jwks_service, file_sessionstorage_v1_session_events_service, file_sessionstorage_v1_session_storage_service,
  file_sessionstorage_v1_sessions_service, file_sessionstorage_v1_sign_out_service, file_sessionstorage_v1_rest,
];

/** A file's messages, nested ones included. */
export function messagesOf(file: DescFile): DescMessage[] {
  const all: DescMessage[] = [];
  const walk = (m: DescMessage) => {
    all.push(m);
    m.nestedMessages.forEach(walk);
  };
  file.messages.forEach(walk);
  return all;
}

/** Every scalar field type. */
export const scalarTypes = [
  Type.DOUBLE, Type.FLOAT, Type.INT64, Type.UINT64, Type.INT32, Type.FIXED64, Type.FIXED32, Type.BOOL,
  Type.STRING, Type.BYTES, Type.UINT32, Type.SFIXED32, Type.SFIXED64, Type.SINT32, Type.SINT64,
];
/** Every wrapper of google/protobuf/wrappers.proto. */
export const wrapperNames = ["DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue"];

export const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;
export const chance = (p: number) => Math.random() < p;
// Each range's edges (and the varint length steps), and something at random.
export const int32 = () => pick([0, 1, -1, 127, 128, 300, 16384, 0x7fffffff, -0x80000000, randomInt(-0x7fffffff, 0x7fffffff)]);
export const uint32 = () => pick([0, 1, 127, 128, 0xffffffff, randomInt(0, 0xffffffff)]);
export const int64 = () => pick([0n, 1n, -1n, 127n, 128n, 2n ** 63n - 1n, -(2n ** 63n), randomBytes(8).readBigInt64LE()]);
export const uint64 = () => pick([0n, 1n, 128n, 2n ** 64n - 1n, randomBytes(8).readBigUInt64LE()]);
