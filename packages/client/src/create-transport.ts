import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { requestIdInterceptor } from "./request-id-interceptor.js";

/** What every client shares: where the service is, how to talk to it, how long to wait. */
export interface TransportOptions {
  /** The service's URL, e.g. "http://session-storage:8080". */
  readonly baseUrl: string;
  /** "grpc": gRPC over HTTP/2 (h2c on http://). "connect": the Connect protocol over HTTP/1.1. */
  readonly transport: "grpc" | "connect";
  /** Deadline of each call unless its call options give `timeoutMs`; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** More interceptors, run after the client's own (so they see its headers). */
  readonly interceptors?: readonly Interceptor[];
}

export const defaultTimeoutMs = 10_000;

/**
 * createTransport builds the Connect transport with the request id and the
 * caller's authentication in front. The deadline is the transport's default
 * timeout: sent as grpc-timeout / connect-timeout-ms so the service stops
 * working on a call its caller gave up on, and enforced locally too.
 */
export function createTransport(options: TransportOptions, auth: Interceptor): Transport {
  const interceptors = [requestIdInterceptor(), auth, ...(options.interceptors ?? [])];
  const common = { baseUrl: options.baseUrl, interceptors, defaultTimeoutMs: options.timeoutMs ?? defaultTimeoutMs };
  switch (options.transport) {
    case "grpc":
      return createGrpcTransport(common);
    case "connect":
      return createConnectTransport({ ...common, httpVersion: "1.1" });
    default:
      throw new Error(`transport must be "grpc" or "connect", not ${JSON.stringify(options.transport)}`);
  }
}
