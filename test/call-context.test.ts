import { createContextKey } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { CallContext, CallValues } from "../src/dispatch/call-context.js";
import { LeanHeaders } from "../src/dispatch/lean-headers.js";

const method = AuthStatusService.method.getAuthStatus;
const contextWith = (deadline?: number) =>
  new CallContext(method, "POST", new LeanHeaders({}), new LeanHeaders({}), "grpc", "/x", deadline);

describe("CallValues: Connect's ContextValues semantics", () => {
  it("answers a key's default until it is set, the value after, the default again once deleted", () => {
    const key = createContextKey<string | undefined>("fallback");
    const values = new CallValues();
    expect(values.get(key)).toBe("fallback");
    expect(values.set(key, "mine")).toBe(values);
    expect(values.get(key)).toBe("mine");
    // A value set to undefined is a value: the default does not come back.
    values.set(key, undefined);
    expect(values.get(key)).toBeUndefined();
    expect(values.delete(key)).toBe(values);
    expect(values.get(key)).toBe("fallback");
  });

  it("keeps keys apart, whatever their description", () => {
    const a = createContextKey(0, { description: "same" });
    const b = createContextKey(0, { description: "same" });
    const values = new CallValues().set(a, 1);
    expect(values.get(b)).toBe(0);
    expect(values.get(a)).toBe(1);
  });
});

describe("CallContext", () => {
  it("names the method and its service, and never aborts", () => {
    const ctx = contextWith();
    expect(ctx.method).toBe(method);
    expect(ctx.service).toBe(AuthStatusService);
    expect(ctx.signal.aborted).toBe(false);
  });

  it("has no time limit without a deadline, and the time left with one (detached too)", async () => {
    expect(contextWith().timeoutMs()).toBeUndefined();
    const { timeoutMs } = contextWith(Date.now() + 10_000);
    const first = timeoutMs()!;
    expect(first).toBeGreaterThan(5_000);
    expect(first).toBeLessThanOrEqual(10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(timeoutMs()!).toBeLessThan(first);
  });

  it("makes the response trailer on first use, and hands back the one written", () => {
    const ctx = contextWith();
    expect(ctx.writtenTrailer).toBeUndefined();
    ctx.responseTrailer.set("x-done", "yes");
    expect(ctx.writtenTrailer).toBe(ctx.responseTrailer);
    expect(ctx.writtenTrailer?.get("x-done")).toBe("yes");
  });
});
