import type { ConnectRouter } from "@connectrpc/connect";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import {
  ServerReflection as ServerReflectionV1,
  file_grpc_reflection_v1_reflection,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1alpha,
  file_grpc_reflection_v1alpha_reflection,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

// gRPC status codes carried inside error_response (not thrown: errors are per-request).
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

// Structural shape shared by the v1 and v1alpha messages, so one handler serves both.
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

interface ReflectionIndex {
  services: string[];
  byFilename: Map<string, DescFile>;
  bySymbol: Map<string, DescFile>;
  byExtension: Map<string, DescFile>; // key: `${extendee}:${number}`
  extensionNumbers: Map<string, number[]>; // every known message type, even with no extensions
  closure: Map<DescFile, Uint8Array[]>; // requested file first, then transitive deps
}

export function registerReflection(router: ConnectRouter, files: readonly DescFile[]): void {
  // The reflection files are always served here, so always advertise them.
  const served = dedupe([...files, file_grpc_reflection_v1_reflection, file_grpc_reflection_v1alpha_reflection]);
  const index = buildIndex(served);
  const impl = reflectionInfo(index);
  router.service(ServerReflectionV1, { serverReflectionInfo: impl });
  router.service(ServerReflectionV1alpha, { serverReflectionInfo: impl });
}

function reflectionInfo(index: ReflectionIndex) {
  return async function* <R extends ReflectionRequest>(requests: AsyncIterable<R>) {
    for await (const request of requests) {
      yield { validHost: request.host, originalRequest: request, messageResponse: answer(index, request) };
    }
  };
}

function answer(index: ReflectionIndex, request: ReflectionRequest): ReflectionAnswer {
  const req = request.messageRequest;
  switch (req.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    case "fileByFilename":
      return fileResponse(index, index.byFilename.get(req.value), `file not found: ${req.value}`);
    case "fileContainingSymbol":
      return fileResponse(index, index.bySymbol.get(stripDot(req.value)), `symbol not found: ${req.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      return fileResponse(
        index,
        index.byExtension.get(`${stripDot(containingType)}:${extensionNumber}`),
        `extension not found: ${containingType} ${extensionNumber}`,
      );
    }
    case "allExtensionNumbersOfType": {
      const typeName = stripDot(req.value);
      const numbers = index.extensionNumbers.get(typeName);
      if (!numbers) return error(NOT_FOUND, `type not found: ${req.value}`);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: typeName, extensionNumber: numbers } };
    }
    default:
      return error(INVALID_ARGUMENT, "message_request not set");
  }
}

function fileResponse(index: ReflectionIndex, file: DescFile | undefined, notFound: string): ReflectionAnswer {
  if (!file) return error(NOT_FOUND, notFound);
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.closure.get(file)! } };
}

function error(errorCode: number, errorMessage: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode, errorMessage } };
}

// Clients such as grpcurl sometimes send a leading dot (fully-qualified proto form).
function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

function dedupe(files: readonly DescFile[]): DescFile[] {
  return [...new Map(files.map((f) => [f.proto.name, f])).values()];
}

function transitive(file: DescFile, out: Map<string, DescFile> = new Map()): Map<string, DescFile> {
  if (out.has(file.proto.name)) return out;
  out.set(file.proto.name, file);
  for (const dep of file.dependencies) transitive(dep, out);
  return out;
}

function buildIndex(served: readonly DescFile[]): ReflectionIndex {
  const all = new Map<string, DescFile>();
  for (const f of served) transitive(f, all);

  const index: ReflectionIndex = {
    services: served.flatMap((f) => f.services.map((s) => s.typeName)),
    byFilename: new Map(),
    bySymbol: new Map(),
    byExtension: new Map(),
    extensionNumbers: new Map(),
    closure: new Map(),
  };
  const encoded = new Map<DescFile, Uint8Array>();
  for (const file of all.values()) {
    encoded.set(file, toBinary(FileDescriptorProtoSchema, file.proto));
  }

  // Dependency files are indexed too: clients resolve referenced types (e.g. google.protobuf.Timestamp) by symbol.
  const extensions: { extendee: string; number: number; file: DescFile }[] = [];
  for (const file of all.values()) {
    index.byFilename.set(file.proto.name, file);
    index.closure.set(file, [...transitive(file).values()].map((f) => encoded.get(f)!));
    // Walk the raw proto rather than DescMessage trees, which omit synthetic map-entry messages.
    const sym = (name: string) => index.bySymbol.set(name, file);
    const pkg = file.proto.package ? `${file.proto.package}.` : "";
    const addEnums = (scope: string, enums: readonly EnumDescriptorProto[]) => {
      for (const e of enums) {
        sym(scope + e.name);
        // Enum values are scoped to the enum's parent, per protobuf naming rules.
        for (const v of e.value) sym(scope + v.name);
      }
    };
    const addMessages = (scope: string, messages: readonly DescriptorProto[]) => {
      for (const m of messages) {
        const name = scope + m.name;
        sym(name);
        index.extensionNumbers.set(name, []);
        for (const f of [...m.field, ...m.extension]) sym(`${name}.${f.name}`);
        for (const o of m.oneofDecl) sym(`${name}.${o.name}`);
        addEnums(`${name}.`, m.enumType);
        addMessages(`${name}.`, m.nestedType);
      }
    };
    addMessages(pkg, file.proto.messageType);
    addEnums(pkg, file.proto.enumType);
    for (const f of file.proto.extension) sym(pkg + f.name);
    for (const service of file.proto.service) {
      sym(pkg + service.name);
      for (const method of service.method) sym(`${pkg}${service.name}.${method.name}`);
    }
    for (const type of nestedTypes(file)) {
      if (type.kind === "extension") extensions.push({ extendee: type.extendee.typeName, number: type.number, file });
    }
  }
  for (const { extendee, number, file } of extensions) {
    index.byExtension.set(`${extendee}:${number}`, file);
    const numbers = index.extensionNumbers.get(extendee) ?? [];
    numbers.push(number);
    index.extensionNumbers.set(extendee, numbers);
  }
  return index;
}
