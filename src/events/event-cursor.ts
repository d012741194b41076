import { Code, ConnectError } from "@connectrpc/connect";
import { tenantBuckets } from "../store/redis-keys.js";

/**
 * EventCursor is a position in a tenant's events: the last entry id read in
 * each of its streams (one per tenant index bucket). A single id cannot say
 * it: entries of different streams written in the same millisecond are
 * ordered by nothing, so each stream resumes from its own position.
 */
export type EventCursor = readonly string[];

const version = "e1.";
const entryId = /^\d{1,16}-\d{1,20}$/;

/** The position before every event. */
export const cursorAtStart: EventCursor = Object.freeze(Array.from({ length: tenantBuckets }, () => "0-0"));

/** encodeCursor: "e1." + base64url of the ids, comma-separated ("" for 0-0). Opaque to clients. */
export function encodeCursor(cursor: EventCursor): string {
  return version + Buffer.from(cursor.map((id) => (id === "0-0" ? "" : id)).join(","), "utf8").toString("base64url");
}

/**
 * decodeCursor reads a cursor given back by a consumer. A plain entry id
 * ("<ms>-<seq>", e.g. an event's id) is accepted too: every stream resumes
 * after it, which may repeat or (within the same millisecond) skip an event
 * of another stream; the opaque cursor never does.
 */
export function decodeCursor(text: string, field = "resume_after"): EventCursor {
  if (entryId.test(text)) return Array.from({ length: tenantBuckets }, () => text);
  const invalid = () =>
    new ConnectError(`${field} is not a valid event cursor: pass the cursor of the last event seen unchanged`, Code.InvalidArgument);
  if (!text.startsWith(version)) throw invalid();
  const ids = Buffer.from(text.slice(version.length), "base64url").toString("utf8").split(",");
  if (ids.length !== tenantBuckets) throw invalid();
  return ids.map((id) => {
    if (id === "") return "0-0";
    if (!entryId.test(id)) throw invalid();
    return id;
  });
}

/** compareIds orders two stream entry ids. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-") as [string, string];
  const [bm, bs] = b.split("-") as [string, string];
  const byMs = BigInt(am) - BigInt(bm);
  if (byMs !== 0n) return byMs < 0n ? -1 : 1;
  const bySeq = BigInt(as) - BigInt(bs);
  return bySeq === 0n ? 0 : bySeq < 0n ? -1 : 1;
}
