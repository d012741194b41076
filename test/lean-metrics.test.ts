import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { createLeanCounter, createLeanGauge, createLeanHistogram } from "../src/observability/lean-metrics.js";

// The hot path's lean series must render exactly as prom-client's own would,
// so dashboards and alerts cannot tell them apart.

const buckets = [0.001, 0.01, 0.1, 1];
const observations = [0.0005, 0.001, 0.002, 0.05, 0.5, 3, 0.01];

describe("lean series render as prom-client's", () => {
  test("counter, gauge and histogram: the same text for the same operations", async () => {
    const reference = new Registry();
    const lean = new Registry();
    const help = "help text";
    const counter = new Counter({ name: "c_total", help, labelNames: ["a", "b"], registers: [reference] });
    const gauge = new Gauge({ name: "g", help, labelNames: ["p"], registers: [reference] });
    const histogram = new Histogram({ name: "h_seconds", help, labelNames: ["m"], buckets, registers: [reference] });
    const leanCounter = createLeanCounter({ name: "c_total", help, labelNames: ["a", "b"], registry: lean });
    const leanGauge = createLeanGauge({ name: "g", help, labelNames: ["p"], registry: lean });
    const leanHistogram = createLeanHistogram({ name: "h_seconds", help, labelNames: ["m"], buckets, registry: lean });

    counter.labels("x", "y").inc();
    counter.labels("x", "y").inc(2);
    counter.labels("x", 'quote"and\\slash').inc();
    leanCounter.child("x", "y").inc();
    leanCounter.child("x", "y").inc(2);
    leanCounter.child("x", 'quote"and\\slash').inc();
    for (const p of ["grpc", "rest", "grpc"]) {
      gauge.labels(p).inc();
      leanGauge.child(p).inc();
    }
    gauge.labels("grpc").dec();
    leanGauge.child("grpc").dec();
    for (const [i, v] of observations.entries()) {
      histogram.labels(i % 2 ? "odd" : "even").observe(v);
      leanHistogram.child(i % 2 ? "odd" : "even").observe(v);
    }

    expect(await lean.metrics()).toBe(await reference.metrics());
    // And the values are the ones observed (the comparison above is not of two empty texts).
    const text = await lean.metrics();
    expect(text).toContain('c_total{a="x",b="y"} 3');
    expect(text).toContain('g{p="grpc"} 1');
    expect(text).toContain('h_seconds_bucket{le="0.001",m="even"} 1');
    expect(text).toContain('h_seconds_count{m="even"} 4');
    expect(text).toContain('h_seconds_bucket{le="+Inf",m="odd"} 3');
  });

  test("a child needs every label value", () => {
    const counter = createLeanCounter({ name: "c_total", help: "h", labelNames: ["a", "b"], registry: new Registry() });
    expect(() => counter.child("only-one")).toThrow(/takes labels a, b/);
  });
});
