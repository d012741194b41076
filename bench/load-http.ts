/**
 * HTTP/1.1 load generator (a child of run.ts): autocannon with `inFlight`
 * connections, one request each at a time, a different token per request.
 * Latency is timed here (autocannon's histogram has 1 ms resolution).
 */
import autocannon from "autocannon";
import { loadMain } from "./load-protocol.js";

type Timed = { t0?: number };

await loadMain(async (spec, tokens) => async (recorder) => {
  let next = 0;
  const result = await autocannon({
    url: spec.target,
    method: spec.method ?? "GET",
    headers: spec.body === undefined ? {} : { "content-type": "application/json" },
    body: spec.body,
    connections: spec.inFlight,
    pipelining: 1,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.seconds ?? 4 }),
    requests: [
      {
        setupRequest: (req, context: Timed) => {
          context.t0 = performance.now();
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } };
        },
        // A success is 200 with a live session; Connect says "no" in a 200 too.
        onResponse: (status, body, context: Timed) => {
          if (status === 200 && body.includes('"valid":true')) recorder.ok(performance.now() - context.t0!);
          else recorder.fail(`${status} ${body}`);
        },
      },
    ],
  });
  for (let i = 0; i < result.errors + result.timeouts; i++) recorder.fail("connection error or timeout");
});
