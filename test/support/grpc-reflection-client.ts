import type * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

export type ReflectionVersion = typeof v1 | typeof v1alpha;
export type ReflectionResponse = v1.ServerReflectionResponse | v1alpha.ServerReflectionResponse;
/** Plain (typeName-free) request shape, valid input for both the v1 and v1alpha schemas. */
export type ReflectionRequestInit = {
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } };
};

/** Sends the requests on one bidi stream with a grpc-js client and collects the responses, as grpcurl does. */
export function reflect(client: grpc.Client, version: ReflectionVersion, requests: ReflectionRequestInit[]): Promise<ReflectionResponse[]> {
  const serialize = (r: ReflectionRequestInit) =>
    Buffer.from(
      version === v1
        ? toBinary(v1.ServerReflectionRequestSchema, create(v1.ServerReflectionRequestSchema, r))
        : toBinary(v1alpha.ServerReflectionRequestSchema, create(v1alpha.ServerReflectionRequestSchema, r)),
    );
  const deserialize = (bytes: Buffer): ReflectionResponse =>
    version === v1 ? fromBinary(v1.ServerReflectionResponseSchema, bytes) : fromBinary(v1alpha.ServerReflectionResponseSchema, bytes);
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(`/${version.ServerReflection.typeName}/ServerReflectionInfo`, serialize, deserialize);
    const out: ReflectionResponse[] = [];
    call.on("data", (msg: ReflectionResponse) => out.push(msg));
    call.on("error", reject);
    call.on("end", () => resolve(out));
    for (const r of requests) call.write(r);
    call.end();
  });
}
