// LeanHeaders is the Fetch Headers view the implementations get over Node's
// parsed header record: it must answer as Headers would. No network needed.
import { describe, expect, it } from "vitest";
import { LeanHeaders } from "../src/dispatch/lean-headers.js";

describe("LeanHeaders", () => {
  const record = () => ({
    ":authority": "sessions.example:8080",
    authorization: "Bearer abc",
    cookie: ["a=1", "b=2"],
    "x-forwarded-for": ["10.0.0.1", "10.0.0.2"],
    "set-cookie": ["s=1; Path=/", "t=2; Path=/"],
  });

  it("get: any case, lists joined as Headers joins them, host from :authority, null when absent", () => {
    const h = new LeanHeaders(record());
    expect(h.get("authorization")).toBe("Bearer abc");
    expect(h.get("Authorization")).toBe("Bearer abc");
    expect(h.get("AUTHORIZATION")).toBe("Bearer abc");
    expect(h.get("cookie")).toBe("a=1; b=2");
    expect(h.get("X-Forwarded-For")).toBe("10.0.0.1, 10.0.0.2");
    expect(h.get("Host")).toBe("sessions.example:8080");
    expect(h.get("x-missing")).toBeNull();
    expect(h.has("Authorization")).toBe(true);
    expect(h.has("x-missing")).toBe(false);
  });

  it("set, append and delete write the record in lower case; pseudo-headers are never listed", () => {
    const h = new LeanHeaders(record());
    h.set("X-Request-Id", "r1");
    h.append("Vary", "origin");
    h.append("vary", "accept");
    h.append("Set-Cookie", "u=3; Path=/");
    h.delete("Authorization");
    expect(h.record["x-request-id"]).toBe("r1");
    expect(h.get("vary")).toBe("origin, accept");
    expect(h.getSetCookie()).toEqual(["s=1; Path=/", "t=2; Path=/", "u=3; Path=/"]);
    expect(h.get("authorization")).toBeNull();
    const names = [...h.keys()];
    expect(names).toEqual([...names].sort());
    expect(names.some((n) => n.startsWith(":"))).toBe(false);
    expect([...h.entries()].filter(([n]) => n === "set-cookie")).toHaveLength(3);
  });
});
