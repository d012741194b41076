import { isMessage, toBinary, toJson } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { timestampOf } from "../src/services/timestamp.js";

describe("timestampOf", () => {
  it("is the message timestampFromMs makes: the same fields, bytes and JSON", () => {
    for (const ms of [0, 1, 999, 1000, 1001, 1_796_120_294_850, 253_402_300_799_999, -1, -999, -1000, -1001, -62_135_596_800_000]) {
      const ours = timestampOf(ms);
      const theirs = timestampFromMs(ms);
      expect(isMessage(ours, TimestampSchema), String(ms)).toBe(true);
      expect({ ...ours }, String(ms)).toEqual({ ...theirs });
      expect(toBinary(TimestampSchema, ours), String(ms)).toEqual(toBinary(TimestampSchema, theirs));
      expect(toJson(TimestampSchema, ours), String(ms)).toBe(toJson(TimestampSchema, theirs));
    }
  });
});
