import type { JsonObject, Session, SessionMetadata, SessionStatus } from "../core/session.js";

// Short hash field names keep each session small in memory.
//   id tenant user th(token hash) tk(sealed token) st(status)
//   ca(created) ua(updated) la(last accessed) ea(expires) it(idle ms)
//   ml(absolute end) sl(sliding 1/0) pf(profile JSON) md(metadata JSON)

/** sessionToFields flattens a session for HSET. */
export function sessionToFields(s: Session): string[] {
  const fields = [
    "id", s.id, "tenant", s.tenantId, "user", s.userId, "th", s.tokenHash, "tk", s.sealedToken,
    "st", s.status, "ca", String(s.createdAt), "ua", String(s.updatedAt), "la", String(s.lastAccessedAt),
    "ea", String(s.expiresAt), "it", String(s.idleTimeoutMs), "ml", String(s.absoluteExpiresAt),
    "sl", s.sliding ? "1" : "0",
  ];
  if (s.profile) fields.push("pf", JSON.stringify(s.profile));
  if (s.metadata) fields.push("md", JSON.stringify(s.metadata));
  return fields;
}

/** sessionFromReply reads an HGETALL reply (flat array or object). */
export function sessionFromReply(reply: unknown): Session | undefined {
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
  if (h.id === undefined || h.ea === undefined) return undefined;
  return {
    id: h.id,
    tenantId: h.tenant ?? "",
    userId: h.user ?? "",
    tokenHash: h.th ?? "",
    sealedToken: h.tk ?? "",
    status: (h.st ?? "active") as SessionStatus,
    createdAt: Number(h.ca),
    updatedAt: Number(h.ua),
    lastAccessedAt: Number(h.la),
    expiresAt: Number(h.ea),
    idleTimeoutMs: Number(h.it),
    absoluteExpiresAt: Number(h.ml),
    sliding: h.sl === "1",
    profile: h.pf ? (JSON.parse(h.pf) as JsonObject) : undefined,
    metadata: h.md ? (JSON.parse(h.md) as SessionMetadata) : undefined,
  };
}
