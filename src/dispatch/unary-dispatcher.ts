import { create, isMessage, type DescMessage, type DescMethodUnary, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createServiceImplSpec, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { ApiClientVerifier } from "../auth/api-client-verifier.js";
import { credentialsKey } from "../auth/credentials.js";
import { readCredentials } from "../auth/read-credentials.js";
import { traceHeaders, type CallOutcome } from "../observability/call-outcome.js";
import { acceptRequestId, requestIdKey } from "../observability/request-id.js";
import { CallContext } from "./call-context.js";
import { LeanHeaders } from "./lean-headers.js";

type AnyUnaryImpl = (request: MessageShape<DescMessage>, context: HandlerContext) => unknown;

/** UnaryProcedure is one unary method with its implementation. */
export interface UnaryProcedure {
  /** "/package.Service/Method", the gRPC and Connect request path. */
  readonly path: string;
  /** "package.Service/Method", as logs name it. */
  readonly name: string;
  readonly method: DescMethodUnary;
  readonly impl: AnyUnaryImpl;
}

/** UnaryCall is one decoded request, whatever protocol brought it. */
export interface UnaryCall {
  readonly procedure: UnaryProcedure;
  readonly input: MessageShape<DescMessage>;
  /** The request's headers (or gRPC metadata), as Node parsed them. */
  readonly requestHeader: LeanHeaders;
  readonly protocolName: "grpc" | "connect" | "rest";
  readonly requestMethod: string;
  readonly url: string;
  /** The caller's deadline, if it sent one. */
  readonly timeoutMs?: number;
  /** A request id the protocol already accepted (REST logs it before the call). */
  readonly requestId?: string;
}

/** UnaryReply is what the implementation answered, and its encoding. */
export interface UnaryReply<T> {
  readonly message: MessageShape<DescMessage>;
  /** The message as the protocol's `encode` wrote it. */
  readonly body: T;
  readonly header: LeanHeaders;
  /** The trailer, if the implementation wrote one. */
  readonly trailer: LeanHeaders | undefined;
}

/**
 * UnaryDispatcher runs unary calls straight into the service implementations,
 * with the same steps connect-node's interceptors take (request id,
 * credentials, outcome log, error mapping) but without a protocol pass of its
 * own: no Fetch Headers, no abort signal per call, no async iterables.
 */
export interface UnaryDispatcher {
  /** The unary procedure at a gRPC/Connect path, if there is one. */
  procedure(path: string): UnaryProcedure | undefined;
  /**
   * Runs a call and encodes its reply with `encode`, so a reply that cannot
   * be encoded is the call's failure (INTERNAL, logged and counted as one);
   * rejects with a ConnectError that carries the request id.
   */
  call<T>(call: UnaryCall, encode: (message: MessageShape<DescMessage>) => T): Promise<UnaryReply<T>>;
}

export interface UnaryDispatcherOptions {
  readonly services: readonly { readonly service: DescService; readonly impl: ServiceImpl<DescService> }[];
  readonly verifier: ApiClientVerifier;
  readonly outcome: CallOutcome;
}

export function createUnaryDispatcher(options: UnaryDispatcherOptions): UnaryDispatcher {
  const { verifier, outcome } = options;
  const procedures = new Map<string, UnaryProcedure>();
  for (const { service, impl } of options.services) {
    const spec = createServiceImplSpec(service, impl);
    for (const method of Object.values(spec.methods)) {
      if (method.kind !== "unary") continue;
      const name = `${service.typeName}/${method.method.name}`;
      procedures.set(`/${name}`, { path: `/${name}`, name, method: method.method, impl: method.impl as AnyUnaryImpl });
    }
  }

  return {
    procedure: (path) => procedures.get(path),

    async call<T>(call: UnaryCall, encode: (message: MessageShape<DescMessage>) => T) {
      const requestId = call.requestId ?? acceptRequestId(call.requestHeader.get("x-request-id"));
      const { procedure, requestHeader } = call;
      const record = outcome.begin(requestId, procedure.name, call.protocolName, requestHeader.get("traceparent"), requestHeader.get("tracestate"));
      const header = new LeanHeaders(record.trace ? { "x-request-id": requestId, ...traceHeaders(record.trace) } : { "x-request-id": requestId });
      const deadline = call.timeoutMs === undefined ? undefined : Date.now() + call.timeoutMs;
      const ctx = new CallContext(procedure.method, call.requestMethod, requestHeader, header, call.protocolName, call.url, deadline);
      const { values } = ctx;
      values.set(requestIdKey, requestId);
      try {
        values.set(credentialsKey, readCredentials(requestHeader, verifier));
        // In this function rather than one of its own: one async step less per call.
        let output = (procedure.impl(call.input, ctx) ?? {}) as object;
        if (output instanceof Promise) output = (await (call.timeoutMs === undefined ? output : withDeadline(output, call.timeoutMs))) as object;
        const schema = procedure.method.output;
        const message = isMessage(output, schema) ? output : create(schema, output as MessageShape<DescMessage>);
        let body: T;
        try {
          body = encode(message);
        } catch (e) {
          // Ours alone, whatever the store's state: never mistaken for an outage.
          throw new ConnectError("internal error", Code.Internal, undefined, undefined, e);
        }
        outcome.ended(record);
        return { message, body, header, trailer: ctx.writtenTrailer };
      } catch (e) {
        throw outcome.failed(e, record);
      }
    },
  };
}

// The caller stops waiting at its deadline, so the answer is DEADLINE_EXCEEDED then.
function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectError("the call's deadline passed", Code.DeadlineExceeded)), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
