import type { Registry } from "prom-client";

/**
 * Series for the hot path. prom-client's labelled children hash their label
 * object on every inc or observe (about 1 µs each, five per call); these
 * resolve a label set once, to a child that then only adds. They register
 * into a prom-client Registry as ordinary metrics, so /metrics renders them
 * in the same text format, next to prom-client's own.
 */

/** The value entries prom-client's Registry renders. */
interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface Series<Child> {
  /** The child for these label values (in labelNames order), made once. */
  child(...values: string[]): Child;
}

export interface CounterChild {
  inc(by?: number): void;
}
export interface GaugeChild {
  inc(): void;
  dec(): void;
}
export interface HistogramChild {
  observe(value: number): void;
}
export type LeanCounter = Series<CounterChild>;
export type LeanGauge = Series<GaugeChild>;
export type LeanHistogram = Series<HistogramChild>;

interface Options {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registry: Registry;
}

function createSeries<State>(
  options: Options,
  type: "counter" | "gauge" | "histogram",
  fresh: () => State,
  render: (labels: Record<string, string>, state: State) => MetricValue[],
) {
  const children = new Map<string, { labels: Record<string, string>; state: State }>();
  options.registry.registerMetric({
    name: options.name,
    help: options.help,
    type,
    get: () => ({
      name: options.name,
      help: options.help,
      type,
      aggregator: "sum",
      values: [...children.values()].flatMap(({ labels, state }) => render(labels, state)),
    }),
  } as never);
  return (values: string[]): State => {
    if (values.length !== options.labelNames.length) throw new Error(`${options.name} takes labels ${options.labelNames.join(", ")}`);
    const key = values.join("\u0000");
    let entry = children.get(key);
    if (!entry) {
      const labels = Object.fromEntries(options.labelNames.map((n, i) => [n, values[i]!]));
      children.set(key, (entry = { labels, state: fresh() }));
    }
    return entry.state;
  };
}

export function createLeanCounter(options: Options): LeanCounter {
  const stateOf = createSeries(options, "counter", () => ({ value: 0 }), (labels, s) => [{ labels, value: s.value }]);
  return {
    child(...values) {
      const s = stateOf(values);
      return { inc: (by = 1) => void (s.value += by) };
    },
  };
}

export function createLeanGauge(options: Options): LeanGauge {
  const stateOf = createSeries(options, "gauge", () => ({ value: 0 }), (labels, s) => [{ labels, value: s.value }]);
  return {
    child(...values) {
      const s = stateOf(values);
      return { inc: () => void s.value++, dec: () => void s.value-- };
    },
  };
}

export function createLeanHistogram(options: Options & { readonly buckets: readonly number[] }): LeanHistogram {
  const bounds = [...options.buckets].sort((a, b) => a - b);
  const stateOf = createSeries(
    options,
    "histogram",
    () => ({ counts: new Array<number>(bounds.length).fill(0), sum: 0, count: 0 }),
    (labels, s) => {
      let cumulative = 0;
      return [
        ...bounds.map((le, i) => ({ labels: { le, ...labels }, value: (cumulative += s.counts[i]!), metricName: `${options.name}_bucket` })),
        { labels: { le: "+Inf", ...labels }, value: s.count, metricName: `${options.name}_bucket` },
        { labels, value: s.sum, metricName: `${options.name}_sum` },
        { labels, value: s.count, metricName: `${options.name}_count` },
      ];
    },
  );
  return {
    child(...values) {
      const s = stateOf(values);
      return {
        observe(value) {
          s.sum += value;
          s.count++;
          // The first bound it fits under; past the last one it is only in +Inf.
          for (let i = 0; i < bounds.length; i++) {
            if (value <= bounds[i]!) {
              s.counts[i]!++;
              return;
            }
          }
        },
      };
    },
  };
}
