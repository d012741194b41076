import { readFileSync } from "node:fs";
import readline from "node:readline";
import { spawnOn } from "./children.js";

// A load generator is a child process on core 1. It prepares (connects),
// says "ready", waits for "go" (the parent samples the server's CPU and Redis
// counters in between), runs, and answers one "result <json>" line.

export interface LoadSpec {
  kind: "http" | "grpc";
  /** http: the full URL; grpc: host:port. */
  target: string;
  method?: "GET" | "POST";
  body?: string;
  /** A JSON array of tokens, used in turn. */
  tokensFile: string;
  inFlight: number;
  /** Run for this long, or make exactly `amount` calls. */
  seconds?: number;
  amount?: number;
}

export interface LoadResult {
  /** Replies received that were a success. */
  ok: number;
  failures: number;
  failureSamples: string[];
  elapsedSeconds: number;
  p50ms: number;
  p99ms: number;
}

/** runLoad starts the generator for `spec`; `atStart` runs after it is ready and before it starts. */
export function runLoad(spec: LoadSpec, atStart: () => Promise<void>): Promise<LoadResult> {
  const script = new URL(`./load-${spec.kind}.js`, import.meta.url).pathname;
  const child = spawnOn(1, process.execPath, [script, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let result: LoadResult | undefined;
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line === "ready") atStart().then(() => child.stdin!.write("go\n"), reject);
      else if (line.startsWith("result ")) result = JSON.parse(line.slice(7)) as LoadResult;
    });
    child.once("exit", (code) => (result ? resolve(result) : reject(new Error(`load generator ${spec.kind} exited ${code} without a result`))));
  });
}

/** loadMain is a generator's main: `prepare` connects, then `run` measures. */
export async function loadMain(prepare: (spec: LoadSpec, tokens: string[]) => Promise<(record: Recorder) => Promise<void>>) {
  const spec = JSON.parse(process.argv[2]!) as LoadSpec;
  const tokens = JSON.parse(readFileSync(spec.tokensFile, "utf8")) as string[];
  const run = await prepare(spec, tokens);
  process.stdout.write("ready\n");
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once("line", resolve));
  const recorder = new Recorder();
  const start = performance.now();
  await run(recorder);
  const elapsedSeconds = (performance.now() - start) / 1000;
  process.stdout.write(`result ${JSON.stringify(recorder.result(elapsedSeconds))}\n`);
  process.exit(0);
}

/** Recorder keeps every successful call's latency and the failures. */
export class Recorder {
  readonly latencies: number[] = [];
  failures = 0;
  readonly failureSamples: string[] = [];

  ok(ms: number) {
    this.latencies.push(ms);
  }

  fail(what: string) {
    this.failures++;
    if (this.failureSamples.length < 5) this.failureSamples.push(what.slice(0, 300));
  }

  result(elapsedSeconds: number): LoadResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
    return { ok: sorted.length, failures: this.failures, failureSamples: this.failureSamples, elapsedSeconds, p50ms: at(0.5), p99ms: at(0.99) };
  }
}
