/**
 * Baseline for the gRPC variant: a plain @grpc/grpc-js Server with a
 * hand-written definition of AuthStatusService/GetAuthStatus, protobuf-es
 * (de)serialization with the generated schemas, the same Redis work.
 *   env: REDIS_URL, PORT, BARE_HMAC_KEY (base64)
 */
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  GetAuthStatusRequestSchema,
  GetAuthStatusResponseSchema,
  type GetAuthStatusRequest,
  type GetAuthStatusResponse,
} from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { bareLookup, bearer } from "./bare-lookup.js";
import { bareStatusResponse } from "./bare-status-response.js";

const lookup = bareLookup(process.env.REDIS_URL!, Buffer.from(process.env.BARE_HMAC_KEY!, "base64"));

const codec = <D extends DescMessage>(schema: D) => ({
  serialize: (m: MessageShape<D>) => {
    const bytes = toBinary(schema, m);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  deserialize: (b: Buffer) => fromBinary(schema, b),
});
const request = codec(GetAuthStatusRequestSchema);
const response = codec(GetAuthStatusResponseSchema);

const definition: grpc.ServiceDefinition<grpc.UntypedServiceImplementation> = {
  GetAuthStatus: {
    path: "/sessionstorage.v1.AuthStatusService/GetAuthStatus",
    requestStream: false,
    responseStream: false,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
  },
};

type Unary = grpc.handleUnaryCall<GetAuthStatusRequest, GetAuthStatusResponse>;
const getAuthStatus: Unary = (call, callback) => {
  const token = bearer(call.metadata.get("authorization")[0]?.toString());
  if (!token) return callback({ code: grpc.status.UNAUTHENTICATED, details: "missing bearer token" });
  lookup(token).then(
    (s) => callback(null, bareStatusResponse(s)),
    (e: unknown) => callback({ code: grpc.status.UNAVAILABLE, details: String(e) }),
  );
};

const server = new grpc.Server();
server.addService(definition, { GetAuthStatus: getAuthStatus as grpc.UntypedHandleCall });
server.bindAsync(`127.0.0.1:${process.env.PORT}`, grpc.ServerCredentials.createInsecure(), (e) => {
  if (e) throw e;
});
