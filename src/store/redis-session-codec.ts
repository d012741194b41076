import type { JsonObject, Session, SessionMetadata, SessionStatus } from "../core/session.js";
import { joinSessionId } from "../core/session-id.js";
import { chunkFields, joinChunks } from "./hash-value-chunks.js";

// Short hash field names keep each session small in memory. The session's
// id, tenant and user are in its key, not here.
//   th(token hash) tk(sealed token, chunked) tp(1: a caller token, with a
//   pointer; absent: minted) st(status) ca(created) ua(updated) la(last
//   accessed) ea(expires) it(idle ms) ml(absolute end) sl(sliding 1/0)
//   cu(last save or touch, written by the scripts: the highest live one is
//   current) pf(profile JSON, chunked) md(metadata JSON, chunked)

/** SessionPlace is what a session key says: whose session it is. */
export interface SessionPlace {
  readonly tenantId: string;
  readonly userId: string;
  readonly suffix: string;
}

/** tokenFields are the fields holding a session's token (hash, sealed form, kind). */
export function tokenFields(hash: string, sealed: string, kind: Session["tokenKind"]): string[] {
  return ["th", hash, ...chunkFields("tk", sealed), ...(kind === "caller" ? ["tp", "1"] : [])];
}

/** sessionToFields flattens a new session for HSET. */
export function sessionToFields(s: Session): string[] {
  const fields = [
    ...tokenFields(s.tokenHash, s.sealedToken, s.tokenKind),
    "st", s.status, "ca", String(s.createdAt), "ua", String(s.updatedAt), "la", String(s.lastAccessedAt),
    "ea", String(s.expiresAt), "it", String(s.idleTimeoutMs), "ml", String(s.absoluteExpiresAt),
    "sl", s.sliding ? "1" : "0",
  ];
  if (s.profile) fields.push(...chunkFields("pf", JSON.stringify(s.profile)));
  if (s.metadata) fields.push(...chunkFields("md", JSON.stringify(s.metadata)));
  return fields;
}

/**
 * sessionFromSlideReply reads the hot path's reply (prelude.lua's
 * slide_reply: st ca ua la ea it ml sl tp pf md in one NUL-separated
 * string, '0' or '' for absent) of the session at `place`; null is none.
 * Its token stays in Redis: the caller presented it.
 */
export function sessionFromSlideReply(place: SessionPlace, reply: unknown): Session | undefined {
  if (reply === null) return undefined; // no such live session holds the token
  const r = typeof reply === "string" ? reply.split("\0") : [];
  // Anything else is a fault to see (INTERNAL, logged), not an unknown token.
  if (r.length !== 11) throw new Error(`the hot path's script answered an unexpected reply (${r.length} fields)`);
  return {
    id: joinSessionId(place.userId, place.suffix),
    tenantId: place.tenantId,
    userId: place.userId,
    tokenHash: "",
    sealedToken: "",
    tokenKind: r[8] === "1" ? "caller" : "minted",
    status: r[0] as SessionStatus,
    createdAt: Number(r[1]),
    updatedAt: Number(r[2]),
    lastAccessedAt: Number(r[3]),
    expiresAt: Number(r[4]),
    idleTimeoutMs: Number(r[5]),
    absoluteExpiresAt: Number(r[6]),
    sliding: r[7] === "1",
    profile: r[9] ? (JSON.parse(r[9]) as JsonObject) : undefined,
    metadata: r[10] ? (JSON.parse(r[10]) as SessionMetadata) : undefined,
  };
}

/** sessionFromReply reads an HGETALL reply (flat array or object) of the session at `place`. */
export function sessionFromReply(place: SessionPlace, reply: unknown): Session | undefined {
  let h: Record<string, string>;
  if (Array.isArray(reply)) {
    if (reply.length === 0) return undefined;
    h = {};
    for (let i = 0; i + 1 < reply.length; i += 2) h[String(reply[i])] = String(reply[i + 1]);
  } else if (reply && typeof reply === "object") {
    h = reply as Record<string, string>;
  } else {
    return undefined;
  }
  if (h.ea === undefined) return undefined;
  const profile = joinChunks(h, "pf");
  const metadata = joinChunks(h, "md");
  return {
    id: joinSessionId(place.userId, place.suffix),
    tenantId: place.tenantId,
    userId: place.userId,
    tokenHash: h.th ?? "",
    sealedToken: joinChunks(h, "tk") ?? "",
    tokenKind: h.tp === "1" ? "caller" : "minted",
    status: (h.st ?? "active") as SessionStatus,
    createdAt: Number(h.ca),
    updatedAt: Number(h.ua),
    lastAccessedAt: Number(h.la),
    expiresAt: Number(h.ea),
    idleTimeoutMs: Number(h.it),
    absoluteExpiresAt: Number(h.ml),
    sliding: h.sl === "1",
    profile: profile ? (JSON.parse(profile) as JsonObject) : undefined,
    metadata: metadata ? (JSON.parse(metadata) as SessionMetadata) : undefined,
  };
}
