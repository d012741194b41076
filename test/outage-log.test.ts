import { Writable } from "node:stream";
import { expect, test } from "vitest";
import { createLogger } from "../src/observability/logger.js";
import { createOutageLog } from "../src/observability/outage-log.js";

// The outage log on its own, with a short summary period: a warning as an
// outage starts and ends, at most one summary of failed calls per period.

function capture() {
  const lines: { level: number; msg: string; failedCalls?: number; lastCause?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      callback();
    },
  });
  return { lines, logger: createLogger("info", sink) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("many failed calls make one summary line per period; the outage's start and end one line each", async () => {
  const { lines, logger } = capture();
  const outage = createOutageLog(logger, { summaryEveryMs: 200 });

  outage.storeChanged(false, "connect ECONNREFUSED 127.0.0.1:6379");
  for (let i = 0; i < 500; i++) outage.callUnavailable(new Error("Stream isn't writeable"));
  await sleep(300);
  for (let i = 0; i < 300; i++) outage.callUnavailable(new Error("Stream isn't writeable"));
  await sleep(300);
  for (let i = 0; i < 7; i++) outage.callUnavailable(new Error("Stream isn't writeable"));
  outage.storeChanged(true, "");
  await sleep(300);
  outage.stop();

  expect(lines.map((l) => l.msg)).toEqual([
    "redis unreachable: calls are answered UNAVAILABLE until it is back",
    "500 calls failed with UNAVAILABLE in the last 0.2 s",
    "300 calls failed with UNAVAILABLE in the last 0.2 s",
    expect.stringMatching(/^redis reachable again after 0\.\d s; 807 calls failed with UNAVAILABLE meanwhile$/),
  ]);
  expect(lines.every((l) => l.level === 40)).toBe(true);
  expect(lines[1]!.lastCause).toBe("Stream isn't writeable");
});

test("calls failing before the outage is noticed count to it; a repeated state change logs nothing", async () => {
  const { lines, logger } = capture();
  const outage = createOutageLog(logger, { summaryEveryMs: 10_000 });
  outage.storeChanged(true, "");
  for (let i = 0; i < 3; i++) outage.callUnavailable(new Error("session store did not answer within 2000 ms"));
  outage.storeChanged(false, "no answer to PING: Command timed out");
  outage.storeChanged(false, "still down");
  outage.callUnavailable(undefined);
  outage.storeChanged(true, "");
  outage.storeChanged(true, "");
  outage.stop();
  expect(lines.map((l) => l.msg)).toEqual([
    "redis unreachable: calls are answered UNAVAILABLE until it is back",
    expect.stringMatching(/; 4 calls failed with UNAVAILABLE meanwhile$/),
  ]);
});

test("failures without an outage (a single slow call) are summarized, and stop() writes what is pending", () => {
  const { lines, logger } = capture();
  const outage = createOutageLog(logger, { summaryEveryMs: 10_000 });
  outage.callUnavailable(new Error("session store did not answer within 2000 ms"));
  outage.stop();
  expect(lines.map((l) => l.msg)).toEqual(["1 call failed with UNAVAILABLE in the last 10 s"]);
});
