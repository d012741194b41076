import { randomFillSync } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace";

const IDS_BYTES = 24; // a trace id (16 bytes) and a span id (8)
// Drawn 256 calls' worth at a time: a randomBytes call per call is a crypto job
// of its own, several µs, where randomUUID does the same from a pool.
const pool = Buffer.alloc(IDS_BYTES * 256);
let next = pool.length;

/** randomTraceIds are a fresh W3C trace id and span id, in hex, from the CSPRNG. */
export function randomTraceIds(): { traceId: string; spanId: string } {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const hex = pool.toString("hex", next, next + IDS_BYTES);
  next += IDS_BYTES;
  return { traceId: hex.slice(0, 32), spanId: hex.slice(32) };
}

/**
 * PresetIdGenerator gives the SDK the ids a call was given before its span
 * starts, so the sampler can be asked first and an unsampled call needs no
 * SDK span at all. Without a preset it makes random ones, as the SDK's own.
 */
export class PresetIdGenerator implements IdGenerator {
  #traceId: string | undefined;
  #spanId: string | undefined;

  /** The ids the next span takes (the trace id only if it starts a trace); `clear` after it started. */
  preset(traceId: string, spanId: string): void {
    this.#traceId = traceId;
    this.#spanId = spanId;
  }

  clear(): void {
    this.#traceId = undefined;
    this.#spanId = undefined;
  }

  generateTraceId(): string {
    return this.#traceId ?? randomTraceIds().traceId;
  }

  generateSpanId(): string {
    return this.#spanId ?? randomTraceIds().spanId;
  }
}
