import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import type { ContextKey, ContextValues, HandlerContext } from "@connectrpc/connect";
import { LeanHeaders } from "./lean-headers.js";

// Unary calls are short and never cancelled by their implementations: one
// signal that never aborts serves them all.
const neverAborted = new AbortController().signal;
const noDeadline = () => undefined;

type Slots = Record<symbol, unknown>;

/**
 * CallValues is Connect's ContextValues (values stored under their key's
 * symbol, a key's default when absent) with its methods on the prototype:
 * createContextValues makes three new functions for every call.
 */
export class CallValues implements ContextValues {
  get<T>(key: ContextKey<T>): T {
    return key.id in this ? ((this as unknown as Slots)[key.id] as T) : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    (this as unknown as Slots)[key.id] = value;
    return this;
  }

  delete(key: ContextKey<unknown>): this {
    delete (this as unknown as Slots)[key.id];
    return this;
  }
}

/**
 * CallContext is the HandlerContext of one dispatched unary call. What most
 * calls never use is shared or made on first use: the signal, the "no
 * deadline" function, the response trailer.
 */
export class CallContext implements HandlerContext {
  readonly values = new CallValues();
  readonly signal = neverAborted;
  readonly service: DescService;
  readonly timeoutMs: () => number | undefined;
  #trailer: LeanHeaders | undefined;

  constructor(
    readonly method: DescMethodUnary,
    readonly requestMethod: string,
    readonly requestHeader: LeanHeaders,
    readonly responseHeader: LeanHeaders,
    readonly protocolName: string,
    readonly url: string,
    deadline: number | undefined,
  ) {
    this.service = method.parent;
    this.timeoutMs = deadline === undefined ? noDeadline : () => deadline - Date.now();
  }

  get responseTrailer(): LeanHeaders {
    return (this.#trailer ??= new LeanHeaders());
  }

  /** The trailer, if the implementation wrote one. */
  get writtenTrailer(): LeanHeaders | undefined {
    return this.#trailer;
  }
}
