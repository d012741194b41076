import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState, parseTraceParent } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from "@opentelemetry/sdk-trace";
import type { TraceSampling } from "../config/parse-trace-sampling.js";
import { PresetIdGenerator, randomTraceIds } from "./preset-id-generator.js";

/** CallTrace is one call's place in a W3C trace: what its log lines carry and its reply returns. */
export interface CallTrace {
  readonly traceId: string;
  readonly spanId: string;
  /** The traceparent naming this call's span, for the reply. */
  readonly traceparent: string;
  readonly tracestate: string | undefined;
  /** Ends the span with the call's code ("ok" or a Connect code name). */
  end(code: string): void;
}

/** CallTracer joins calls to their callers' traces. */
export interface CallTracer {
  /**
   * The call's trace: a child of the caller's `traceparent`, or, when spans
   * are exported, a new trace for a call that brought none. Undefined when
   * there is nothing to follow.
   */
  start(procedure: string, traceparent: string | null, tracestate: string | null): CallTrace | undefined;
  /** Sends what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface CallTracerOptions {
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans are exported only when set. */
  readonly otlpEndpoint?: string;
  readonly serviceName: string;
  /** Which calls' spans are recorded and exported; every call's by default (parent-based). */
  readonly sampling?: TraceSampling;
}

/**
 * createCallTracer follows W3C trace context on every call. Without an OTLP
 * endpoint no SDK runs: a call with a valid traceparent gets a new span id
 * under the caller's trace, and a call without one costs nothing. With an
 * endpoint, every call is an exported server span (OpenTelemetry SDK, batched
 * OTLP/HTTP JSON), as the sampler decides: a call not sampled still gets
 * its span id and traceparent (flags 00), but records and exports nothing.
 * The sampler is asked before any SDK span is made, so at a small sample
 * most calls cost only their ids.
 */
export function createCallTracer(options: CallTracerOptions): CallTracer {
  return options.otlpEndpoint
    ? createExportingTracer(options.otlpEndpoint, options.serviceName, samplerOf(options.sampling ?? { sampler: "parentbased_always_on", ratio: 1 }))
    : w3cTracer;
}

const w3cTracer: CallTracer = {
  start(_procedure, traceparent, tracestate) {
    const parent = traceparent === null ? null : parseTraceParent(traceparent);
    if (!parent) return undefined;
    return idsOnly(parent.traceId, randomTraceIds().spanId, parent.traceFlags, validTraceState(tracestate));
  },
  shutdown: () => Promise.resolve(),
};

/** The SDK sampler the OpenTelemetry specification names. */
function samplerOf({ sampler, ratio }: TraceSampling): Sampler {
  switch (sampler) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

function createExportingTracer(endpoint: string, serviceName: string, sampler: Sampler): CallTracer {
  const ids = new PresetIdGenerator();
  const provider = new TracerProvider({
    sampler,
    idGenerator: ids,
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }) })],
  });
  const tracer = provider.getTracer("secure-session-storage");
  return {
    start(procedure, traceparent, tracestate) {
      const parent = traceparent === null ? null : parseTraceParent(traceparent);
      const state = validTraceState(tracestate);
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true, traceState: state === undefined ? undefined : new TraceState(state) })
        : ROOT_CONTEXT;
      const fresh = randomTraceIds();
      const callTraceId = parent?.traceId ?? fresh.traceId;
      // The SDK's samplers decide by the trace id and the parent alone, so
      // asking first gives the decision the SDK would make with these ids.
      if (sampler.shouldSample(context, callTraceId, procedure, SpanKind.SERVER, {}, []).decision === SamplingDecision.NOT_RECORD) {
        return idsOnly(callTraceId, fresh.spanId, TraceFlags.NONE, state);
      }
      const slash = procedure.lastIndexOf("/");
      ids.preset(callTraceId, fresh.spanId);
      let span;
      try {
        span = tracer.startSpan(
          procedure,
          { kind: SpanKind.SERVER, attributes: { "rpc.service": procedure.slice(0, slash), "rpc.method": procedure.slice(slash + 1) } },
          context,
        );
      } finally {
        ids.clear();
      }
      const { traceId, spanId, traceFlags } = span.spanContext();
      return {
        traceId,
        spanId,
        traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`,
        tracestate: state,
        end(code) {
          span.setAttribute("rpc.connect_rpc.error_code", code);
          if (code !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: code });
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** A call's trace with no SDK span: its ids, returned and logged, and nothing to end. */
function idsOnly(traceId: string, spanId: string, traceFlags: number, tracestate: string | undefined): CallTrace {
  return {
    traceId,
    spanId,
    traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`,
    tracestate,
    end: () => undefined,
  };
}

// A tracestate that does not parse is dropped, as the W3C recommends, rather than passed on.
function validTraceState(tracestate: string | null): string | undefined {
  if (!tracestate) return undefined;
  const serialized = new TraceState(tracestate).serialize();
  return serialized === "" ? undefined : serialized;
}
