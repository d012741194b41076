/** The OpenTelemetry sampler names this service accepts (OTEL_TRACES_SAMPLER). */
export const traceSamplerNames = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/** TraceSampling says which calls' spans are recorded and exported. */
export interface TraceSampling {
  readonly sampler: (typeof traceSamplerNames)[number];
  /** The share of traces sampled by the ratio samplers, 0 to 1. */
  readonly ratio: number;
}

/**
 * parseTraceSampling reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as
 * the OpenTelemetry specification names them. The default is the SDK's:
 * parentbased_always_on (a caller's sampling decision is kept; calls without
 * one are sampled).
 */
export function parseTraceSampling(name: string | undefined, arg: string | undefined): TraceSampling {
  const sampler = name === undefined || name === "" ? "parentbased_always_on" : name;
  if (!(traceSamplerNames as readonly string[]).includes(sampler)) {
    throw new Error(`OTEL_TRACES_SAMPLER: unknown sampler "${sampler}"; use one of ${traceSamplerNames.join(", ")}`);
  }
  let ratio = 1;
  if (arg !== undefined && arg !== "") {
    ratio = Number(arg);
    if (!/^\d*\.?\d+$/.test(arg.trim()) || !(ratio >= 0 && ratio <= 1)) {
      throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "${arg}")`);
    }
  }
  return Object.freeze({ sampler: sampler as TraceSampling["sampler"], ratio });
}
